package dedup

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/drcon/drcon/template/dep"
	"github.com/hashicorp/consul/api"
)

// benchData is a publication of services services with instances
// instances each, shaped as Consul answers them.
func benchData(b *testing.B, services, instances int) wireData {
	b.Helper()
	w := wireData{Identity: "id", Session: "s", Seq: 1}
	for s := range services {
		d := dep.Dependency{Kind: dep.KindHealthService, Name: fmt.Sprintf("svc%02d", s), Filter: "passing"}
		var list []*dep.HealthService
		for i := range instances {
			list = append(list, &dep.HealthService{
				Node: "node-1", NodeID: "2b2b5f3c-3c1e-4a44-9d5e-0f1e2d3c4b5a", NodeAddress: "127.0.0.1",
				NodeTaggedAddresses: map[string]string{"lan": "127.0.0.1", "wan": "127.0.0.1"},
				NodeMeta:            map[string]string{"consul-network-segment": ""},
				Address:             "127.0.0.1", ID: fmt.Sprintf("%s-%d", d.Name, i), Name: d.Name, Tags: dep.ServiceTags{},
				Checks: api.HealthChecks{{Node: "node-1", CheckID: "serfHealth", Name: "Serf Health Status",
					Status: "passing", Output: "Agent alive and reachable", Type: "", ServiceTags: []string{}}},
				Status: "passing", Port: 8000 + i, Weights: api.AgentWeights{Passing: 1, Warning: 1},
			})
		}
		raw, err := dep.EncodeValue(d.Kind, list)
		if err != nil {
			b.Fatal(err)
		}
		w.Entries = append(w.Entries, wireEntry{ID: d.String(), Dependency: d.Wire(), Index: uint64(s + 1), Answer: raw})
	}
	return w
}

// BenchmarkDecodeData is a follower's cost of one publication of 30
// services in which one answer changed.
func BenchmarkDecodeData(b *testing.B) {
	w := benchData(b, 30, 3)
	first, _, err := encodeData(w, maxSize)
	if err != nil {
		b.Fatal(err)
	}
	prev, err := DecodeData(first, nil)
	if err != nil {
		b.Fatal(err)
	}
	w.Entries[7].Answer = bytes.Replace(w.Entries[7].Answer, []byte(`"Port":8002`), []byte(`"Port":8009`), 1)
	w.Entries[7].Index++
	next, _, err := encodeData(w, maxSize)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := DecodeData(next, prev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(next)), "bytes")
}

// BenchmarkEncodeData is a leader's cost of one publication of 30 services.
func BenchmarkEncodeData(b *testing.B) {
	w := benchData(b, 30, 3)
	for b.Loop() {
		if _, _, err := encodeData(w, maxSize); err != nil {
			b.Fatal(err)
		}
	}
}
