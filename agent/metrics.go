package agent

import (
	"github.com/drcon/drcon/template/dedup"
	"github.com/drcon/drcon/template/watch"
)

// registerMetrics adds the agent's own metrics: reloads, the runtime's and
// the process's, and the watcher pool's counters and the dedup role, read
// at scrape time (the pool is replaced when the consul block changes, so
// they are read through the current backend).
func (a *Agent) registerMetrics() {
	r := a.registry
	a.reloads = r.NewCounterVec("drcon_reloads_total", "Configuration reloads, by outcome (ok, unchanged, failed).", "outcome")
	for _, o := range []string{"ok", "unchanged", "failed"} {
		a.reloads.WithLabelValues(o)
	}
	a.execActions = r.NewCounterVec("drcon_exec_actions_total", "Reload signals sent to the exec child, and its restarts, after a template changed.", "action")
	for _, act := range []string{"reload", "restart"} {
		a.execActions.WithLabelValues(act)
	}
	r.GaugeFunc("drcon_exec_running", "1 while the exec child runs, else 0.", func() float64 {
		cr := a.childNow()
		return oneIf(cr != nil && cr.child.Status().PID != 0)
	})
	r.RegisterRuntime()
	r.GaugeFunc("drcon_dependencies_watched", "Distinct dependencies with a watcher (one query each).",
		func() float64 { return float64(a.poolStats().Dependencies) })
	r.CounterFunc("drcon_consul_queries_total", "Queries sent to Consul by the watcher pool.",
		func() float64 { return float64(a.poolStats().Queries) })
	r.CounterFunc("drcon_consul_query_errors_total", "Blocking queries that failed.",
		func() float64 { return float64(a.poolStats().QueryErrors) })
	r.CounterFunc("drcon_dependency_changes_total", "Dependency answers that changed.",
		func() float64 { return float64(a.poolStats().Changes) })
	r.GaugeFunc("drcon_dedup_leader", "1 while this agent leads its dedup group, else 0.",
		func() float64 { return oneIf(a.dedupStatus().Role == dedup.RoleLeader) })
	r.GaugeFunc("drcon_dedup_shared_dependencies", "Dependencies answered from the dedup leader's data now.",
		func() float64 { return float64(a.dedupStatus().Shared) })
	r.GaugeFunc("drcon_dedup_fallback", "1 while a dedup follower queries Consul itself (see status), else 0.",
		func() float64 { return oneIf(a.dedupStatus().Fallback != "") })
}

// dedupStatus is the current dedup member's status; zero without dedup.
func (a *Agent) dedupStatus() dedup.Status {
	if s := a.backendNow().dedupStatus(); s != nil {
		return *s
	}
	return dedup.Status{}
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// poolStats reads the current watcher pool's counters (zero without one).
func (a *Agent) poolStats() watch.Stats {
	if b := a.backendNow(); b != nil {
		return b.pool.Stats()
	}
	return watch.Stats{}
}
