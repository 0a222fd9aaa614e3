package jobs

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the counters and histograms jobs record. The agent creates one
// set per process and registers it; a nil *Metrics is valid and records
// nothing, so that tests and -once runs need not care.
type Metrics struct {
	Renders          *prometheus.CounterVec   // job
	RenderErrors     *prometheus.CounterVec   // job
	Writes           *prometheus.CounterVec   // job
	CheckFailures    *prometheus.CounterVec   // job
	Commands         *prometheus.CounterVec   // job, outcome (ok|failed|timeout)
	CommandDuration  *prometheus.HistogramVec // job
	Registrations    *prometheus.CounterVec   // job, action (register|deregister|check_update)
	ReconcileActions *prometheus.CounterVec   // job, action (register|deregister|update|noop)
	DockerEvents     *prometheus.CounterVec   // job, type (container action or network action)
}

// NewMetrics creates the job metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Renders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_template_renders_total", Help: "Complete renders of a template job.",
		}, []string{"job"}),
		RenderErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_template_render_errors_total", Help: "Template executions that failed.",
		}, []string{"job"}),
		Writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_template_writes_total", Help: "Destination files replaced.",
		}, []string{"job"}),
		CheckFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_template_check_failures_total", Help: "Candidate files refused by the check command.",
		}, []string{"job"}),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_template_commands_total", Help: "Reload commands run, by outcome.",
		}, []string{"job", "outcome"}),
		CommandDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "drcon_template_command_duration_seconds", Help: "Duration of reload commands.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}, []string{"job"}),
		Registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_registrator_registrations_total", Help: "Writes to the Consul agent, by action.",
		}, []string{"job", "action"}),
		ReconcileActions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_registrator_reconcile_actions_total", Help: "Differences found and applied by reconciles, by action.",
		}, []string{"job", "action"}),
		DockerEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drcon_registrator_docker_events_total", Help: "Docker events received, by type and action.",
		}, []string{"job", "type"}),
	}
	reg.MustRegister(m.Renders, m.RenderErrors, m.Writes, m.CheckFailures, m.Commands,
		m.CommandDuration, m.Registrations, m.ReconcileActions, m.DockerEvents)
	return m
}

// Forget removes a stopped job's series so that removed jobs do not linger.
func (m *Metrics) Forget(job string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"job": job}
	for _, v := range []*prometheus.MetricVec{m.Renders.MetricVec, m.RenderErrors.MetricVec,
		m.Writes.MetricVec, m.CheckFailures.MetricVec, m.Commands.MetricVec, m.CommandDuration.MetricVec,
		m.Registrations.MetricVec, m.ReconcileActions.MetricVec, m.DockerEvents.MetricVec} {
		v.DeletePartialMatch(l)
	}
}
