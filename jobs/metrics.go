package jobs

import "github.com/drcon/drcon/jobs/metrics"

// Metrics are the counters and histograms jobs record. The agent creates one
// set per process in its registry; a nil *Metrics is valid and records
// nothing, so that tests and -once runs need not care.
type Metrics struct {
	Renders          *metrics.CounterVec   // job
	RenderErrors     *metrics.CounterVec   // job
	Writes           *metrics.CounterVec   // job
	CheckFailures    *metrics.CounterVec   // job
	Commands         *metrics.CounterVec   // job, outcome (ok|failed|timeout)
	CommandDuration  *metrics.HistogramVec // job
	Registrations    *metrics.CounterVec   // job, action (register|deregister|check_update)
	ReconcileActions *metrics.CounterVec   // job, action (register|deregister|update|noop)
	DockerEvents     *metrics.CounterVec   // job, type (container action or network action)
}

// NewMetrics creates the job metrics in reg.
func NewMetrics(reg *metrics.Registry) *Metrics {
	return &Metrics{
		Renders:       reg.NewCounterVec("drcon_template_renders_total", "Complete renders of a template job.", "job"),
		RenderErrors:  reg.NewCounterVec("drcon_template_render_errors_total", "Template executions that failed.", "job"),
		Writes:        reg.NewCounterVec("drcon_template_writes_total", "Destination files replaced.", "job"),
		CheckFailures: reg.NewCounterVec("drcon_template_check_failures_total", "Candidate files refused by the check command.", "job"),
		Commands:      reg.NewCounterVec("drcon_template_commands_total", "Reload commands run, by outcome.", "job", "outcome"),
		CommandDuration: reg.NewHistogramVec("drcon_template_command_duration_seconds", "Duration of reload commands.",
			metrics.ExponentialBuckets(0.001, 4, 9), "job"),
		Registrations: reg.NewCounterVec("drcon_registrator_registrations_total", "Writes to the Consul agent, by action.", "job", "action"),
		ReconcileActions: reg.NewCounterVec("drcon_registrator_reconcile_actions_total",
			"Differences found and applied by reconciles, by action.", "job", "action"),
		DockerEvents: reg.NewCounterVec("drcon_registrator_docker_events_total", "Docker events received, by action (start, die, health_status, ...).", "job", "type"),
	}
}

// DeclareTemplate creates a template job's counters at 0, so that rate()
// and alerts see a series from the job's start, not from its first
// failure; the command's outcomes only when it has a command.
func (m *Metrics) DeclareTemplate(job string, command bool) {
	if m == nil {
		return
	}
	for _, c := range []*metrics.CounterVec{m.Renders, m.RenderErrors, m.Writes, m.CheckFailures} {
		c.WithLabelValues(job)
	}
	if command {
		for _, outcome := range []string{"ok", "failed", "timeout"} {
			m.Commands.WithLabelValues(job, outcome)
		}
	}
}

// Forget removes a stopped job's series so that removed jobs do not linger.
func (m *Metrics) Forget(job string) {
	if m == nil {
		return
	}
	for _, v := range []interface{ DeleteMatching(label, value string) int }{m.Renders, m.RenderErrors,
		m.Writes, m.CheckFailures, m.Commands, m.CommandDuration, m.Registrations, m.ReconcileActions, m.DockerEvents} {
		v.DeleteMatching("job", job)
	}
}
