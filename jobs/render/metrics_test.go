package render

import (
	"strings"
	"testing"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

func newMetrics() *jobs.Metrics { return jobs.NewMetrics(metrics.NewRegistry()) }

// value reads a counter.
func value(t *testing.T, c *metrics.Counter) float64 {
	t.Helper()
	return c.Value()
}

// A started job's counters are exported at 0 before anything happened, so
// that rate() and alerts on failures see a series from the start.
func TestCountersFromTheStart(t *testing.T) {
	reg := metrics.NewRegistry()
	m := jobs.NewMetrics(reg)
	store := rendertest.NewStore() // no data: the job waits
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	cfg.Command = config.Command{Shell: "true"}
	var l logs
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &l), Metrics: m})
	startJob(t, j)
	eventually(t, "the job waiting", func() bool { return j.Status().State == StateMissing })
	text := string(reg.WriteText())
	for _, series := range []string{
		`drcon_template_renders_total{job="web"} 0`, `drcon_template_render_errors_total{job="web"} 0`,
		`drcon_template_writes_total{job="web"} 0`, `drcon_template_check_failures_total{job="web"} 0`,
		`drcon_template_commands_total{job="web",outcome="failed"} 0`,
	} {
		if !strings.Contains(text, series) {
			t.Errorf("no %s in\n%s", series, text)
		}
	}
}
