package render

import (
	"testing"

	"github.com/drcon/drcon/jobs"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func newMetrics() *jobs.Metrics { return jobs.NewMetrics(prometheus.NewRegistry()) }

// value reads a counter.
func value(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
