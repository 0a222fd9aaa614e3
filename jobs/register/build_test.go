package register

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/build")

// testIdentity is the registering host of the golden files.
var testIdentity = identity{Host: "host1", Owner: "host1/test", NodeAddr: "10.0.0.1"}

// TestBuildGolden turns real `docker inspect` results (testdata/build/*.inspect.json)
// into registrations and compares them with testdata/build/<case>.golden.json.
func TestBuildGolden(t *testing.T) {
	cases := []struct {
		name    string
		inspect string
		netns   string // owner of the network namespace, for --network container:X
		cfg     config.Registrator
	}{
		{name: "published", inspect: "published"},
		{name: "published-host-ip-tags", inspect: "published", cfg: config.Registrator{HostIP: "10.9.9.9", Tags: []string{"global", "web"}}},
		{name: "published-health", inspect: "published", cfg: config.Registrator{Health: "docker"}},
		{name: "multiport", inspect: "multiport"},
		{name: "wildcard", inspect: "wildcard"},
		{name: "wildcard-ipv6", inspect: "wildcard", cfg: config.Registrator{AddressFamily: "ipv6"}},
		{name: "hostnet", inspect: "hostnet"},
		{name: "hostnet-host-ip", inspect: "hostnet", cfg: config.Registrator{HostIP: "192.0.2.7"}},
		{name: "internal", inspect: "internal", cfg: config.Registrator{Internal: true}},
		{name: "internal-network", inspect: "internal", cfg: config.Registrator{Internal: true, Network: "bridge"}},
		{name: "internal-missing-network", inspect: "internal", cfg: config.Registrator{Internal: true, Network: "nope"}},
		{name: "internal-ipv6-none", inspect: "internal", cfg: config.Registrator{Internal: true, AddressFamily: "ipv6"}},
		{name: "unpublished", inspect: "internal"},
		{name: "imageid", inspect: "imageid"},
		{name: "imageid-prefix", inspect: "imageid2"},
		{name: "ignored", inspect: "ignored"},
		{name: "explicit", inspect: "explicit", cfg: config.Registrator{Explicit: true}},
		{name: "explicit-off", inspect: "explicit"},
		{name: "ip-from-label", inspect: "iplabel", cfg: config.Registrator{UseIPFromLabel: "addr"}},
		{name: "ip-from-label-bad", inspect: "iplabelbad", cfg: config.Registrator{UseIPFromLabel: "addr"}},
		{name: "ip-from-label-missing", inspect: "published", cfg: config.Registrator{UseIPFromLabel: "addr"}},
		{name: "sidecar", inspect: "sidecar", netns: "sidecarowner"},
		{name: "sidecar-internal", inspect: "sidecar", netns: "sidecarowner", cfg: config.Registrator{Internal: true}},
		{name: "sidecar-owner-gone", inspect: "sidecar"},
		// An owner that does not publish the port: registered at the
		// owner's address, as registrator did.
		{name: "sidecar-unpublished", inspect: "sidecar", netns: "internal"},
		{name: "udp-id", inspect: "udpid"},
		{name: "script-bad", inspect: "scriptbad"},
		// Settings as they get written: " web " (trimmed), SERVICE_80_ and
		// SERVICE_ (no key: warned, no meta "80_"), HTTP and TCP checks for
		// every port and TCP for port 81 (port 81's own check wins; port
		// 80's TCP is warned about), an interval without a unit.
		{name: "edges", inspect: "edges"},
		// registrator 7.4's tag templates, in the block's tags and (as in
		// fayrus/registrator) in labels; failing ones are dropped with a
		// warning, httpGet among them. (A block's template that does not
		// parse is refused by newSettings.)
		{name: "tag-templates", inspect: "tagtemplate", cfg: config.Registrator{
			Tags: []string{"{{ .Name | printf \"name=%s\" }}", "{{ .Nope }}", "plain",
				`env={{ join ";" (matchAllElements "^SERVICE_" .Config.Env) }}`, `{{ httpGet "http://127.0.0.1:1/" }}`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := readInspect(t, tc.inspect)
			var netc *docker.Container
			if tc.netns != "" {
				netc = readInspect(t, tc.netns)
			}
			s, err := newSettings(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			services, warns := buildServices(c, netc, s, testIdentity)
			got := goldenOf(services, warns)
			path := filepath.Join("testdata", "build", tc.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from what was built:\n%s", path, got)
			}
		})
	}
}

func readInspect(t *testing.T, name string) *docker.Container {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "build", name+".inspect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c docker.Container
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &c
}

func goldenOf(services []*service, warns []warning) []byte {
	type golden struct {
		Services []*service
		Warnings []string
	}
	g := golden{Services: services}
	for _, w := range warns {
		g.Warnings = append(g.Warnings, w.String())
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// TestHealthDeregisterAfterWarned: with health = "docker" and no
// SERVICE_CHECK_* check, a bad SERVICE_CHECK_DEREGISTER_AFTER is named in a
// warning too (it was dropped in silence: only a user check's was read).
func TestHealthDeregisterAfterWarned(t *testing.T) {
	c := readInspect(t, "published")
	c.Config.Labels = map[string]string{"SERVICE_CHECK_DEREGISTER_AFTER": "90"}
	s, err := newSettings(&config.Registrator{Health: "docker"})
	if err != nil {
		t.Fatal(err)
	}
	services, warns := buildServices(c, nil, s, testIdentity)
	if len(services) != 1 || len(services[0].Reg.Checks) != 1 || services[0].Reg.Checks[0].DeregisterCriticalServiceAfter != "" {
		t.Fatalf("services %+v", services)
	}
	want := `label "SERVICE_CHECK_DEREGISTER_AFTER": "90" is not a positive duration (it needs a unit: 90s); ignored`
	if len(warns) != 1 || warns[0].String() != want {
		t.Errorf("warnings %v, want %q", warns, want)
	}
}

// TestBlankIgnore: a SERVICE_IGNORE of blanks alone ignores, as any value
// did in registrator (trimming must not register what it ignored), and is
// named in a warning as one that reads as false is.
func TestBlankIgnore(t *testing.T) {
	s, err := newSettings(&config.Registrator{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"SERVICE_IGNORE", "SERVICE_80_IGNORE"} {
		c := bridgeContainer(map[string]string{key: " ", "SERVICE_NAME": "web"}, []string{"80/tcp"}, "80/tcp")
		services, warns := buildServices(c, nil, s, testIdentity)
		want := fmt.Sprintf(`label %q: " " ignores all the same, as in registrator, where any value does; remove it to register`, key)
		if len(services) != 0 || len(warns) != 1 || warns[0].String() != want {
			t.Errorf("%s: services %v, warnings %v; want none and %q", key, services, warns, want)
		}
	}
}
