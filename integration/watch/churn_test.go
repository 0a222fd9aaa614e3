package watch_test

import (
	"testing"
	"time"

	"github.com/drcon/drcon/integration/watch"
	"github.com/drcon/drcon/template/consul"
	twatch "github.com/drcon/drcon/template/watch"
)

// TestChurnCostsAtMostTwoQueriesPerChange: each catalog change can wake only
// the two queries that depend on it (its service's and the list of
// services), whatever the number of subscribers.
func TestChurnCostsAtMostTwoQueriesPerChange(t *testing.T) {
	c := startConsul(t)
	ch := watch.NewChurn(t, c, watch.ChurnOptions{Services: 20, Subscribers: 5, Changes: 40,
		Pool: twatch.Options{MaxStale: 2 * time.Second}})
	// Two queries per dependency (the answer, then the blocking one), and
	// room for the fresh agent's own catalog sync waking one of them.
	if in := ch.Initial(); in.Requests > 3*in.Dependencies {
		t.Fatalf("%d requests for the first answers of %d dependencies", in.Requests, in.Dependencies)
	}
	r := ch.Round(t)
	t.Logf("initial %+v; round %+v", ch.Initial(), r)
	if r.Requests > 2*r.Changes {
		t.Fatalf("%d requests for %d changes", r.Requests, r.Changes)
	}
	if r.DataChanges < uint64(r.Changes/2) {
		t.Fatalf("only %d data changes delivered for %d changes", r.DataChanges, r.Changes)
	}
}

// BenchmarkCatalogChurn reports what 200 catalog changes cost with 50
// subscribers over 200 services (one op = one round of 200 changes).
func BenchmarkCatalogChurn(b *testing.B) {
	for _, bc := range []struct {
		name   string
		consul consul.Options
	}{{"plain", consul.Options{}}, {"use_cache", consul.Options{UseCache: true}}} {
		b.Run(bc.name, func(b *testing.B) {
			c := startConsul(b)
			ch := watch.NewChurn(b, c, watch.ChurnOptions{Pool: twatch.Options{MaxStale: 2 * time.Second}, Consul: bc.consul})
			var total watch.ChurnResult
			for b.Loop() {
				r := ch.Round(b)
				total.Requests += r.Requests
				total.Bytes += r.Bytes
				total.DataChanges += r.DataChanges
				total.Signals += r.Signals
				total.Changes += r.Changes
			}
			b.ReportMetric(float64(ch.Initial().Requests), "setup-requests")
			n := float64(b.N)
			b.ReportMetric(float64(total.Requests)/n, "requests/op")
			b.ReportMetric(float64(total.Requests)/float64(total.Changes), "requests/change")
			b.ReportMetric(float64(total.Bytes)/n, "resp-bytes/op")
			b.ReportMetric(float64(total.DataChanges)/n, "data-changes/op")
			b.ReportMetric(float64(total.Signals)/n, "signals/op")
		})
	}
}
