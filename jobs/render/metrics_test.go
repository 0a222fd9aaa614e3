package render

import (
	"testing"

	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
)

func newMetrics() *jobs.Metrics { return jobs.NewMetrics(metrics.NewRegistry()) }

// value reads a counter.
func value(t *testing.T, c *metrics.Counter) float64 {
	t.Helper()
	return c.Value()
}
