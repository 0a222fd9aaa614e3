package dep

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/hashicorp/consul/api"
)

// The answers embed consul/api types (HealthService.Checks and Weights,
// ServiceTaggedAddresses, caLeaf's *api.LeafCert). Templates that print or
// serialise them whole give consul-template's bytes only while these types
// have the fields of consul/api v1.32.1, the version consul-template v0.41.1
// is built with. This test fails when an upgrade of consul/api changes them;
// the fix is then a mirror type here, as CARoot is.
func TestAPITypesMatchConsulTemplates(t *testing.T) {
	want := map[string][]string{
		"HealthCheck": {"Node string ", "CheckID string ", "Name string ", "Status string ", "Notes string ",
			"Output string ", "ServiceID string ", "ServiceName string ", "ServiceTags []string ", "Type string ",
			`Namespace string json:",omitempty"`, `Partition string json:",omitempty"`, "ExposedPort int ",
			`PeerName string json:",omitempty"`, "Definition api.HealthCheckDefinition ", "CreateIndex uint64 ",
			"ModifyIndex uint64 "},
		"HealthCheckDefinition": {"HTTP string ", "Header map[string][]string ", "Method string ", "Body string ",
			"TLSServerName string ", "TLSSkipVerify bool ", "TCP string ", "TCPUseTLS bool ", "UDP string ",
			"GRPC string ", "OSService string ", "GRPCUseTLS bool ", `IntervalDuration time.Duration json:"-"`,
			`TimeoutDuration time.Duration json:"-"`, `DeregisterCriticalServiceAfterDuration time.Duration json:"-"`,
			`SessionName string json:",omitempty"`, "Interval api.ReadableDuration ", "Timeout api.ReadableDuration ",
			"DeregisterCriticalServiceAfter api.ReadableDuration "},
		"AgentWeights":   {"Passing int ", "Warning int "},
		"ServiceAddress": {"Address string ", "Port int "},
		"LeafCert": {"SerialNumber string ", `CertPEM string json:",omitempty"`, `PrivateKeyPEM string json:",omitempty"`,
			"Service string ", "ServiceURI string ", "ValidAfter time.Time ", "ValidBefore time.Time ",
			"CreateIndex uint64 ", "ModifyIndex uint64 "},
	}
	for _, v := range []any{api.HealthCheck{}, api.HealthCheckDefinition{}, api.AgentWeights{}, api.ServiceAddress{}, api.LeafCert{}} {
		typ := reflect.TypeOf(v)
		var got []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			got = append(got, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag))
		}
		if !slices.Equal(got, want[typ.Name()]) {
			t.Errorf("api.%s changed:\n got %q\nwant %q", typ.Name(), got, want[typ.Name()])
		}
	}
}
