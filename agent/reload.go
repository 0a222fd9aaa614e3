package agent

import (
	"slices"
	"time"
)

// ReloadStatus is the outcome of the last reload, for status and logs.
type ReloadStatus struct {
	At        time.Time     `json:"at"`
	Duration  time.Duration `json:"duration_ns"`
	Outcome   string        `json:"outcome"` // ok | unchanged | failed
	Error     string        `json:"error,omitempty"`
	Started   []string      `json:"started,omitempty"`
	Restarted []string      `json:"restarted,omitempty"`
	Stopped   []string      `json:"stopped,omitempty"`
	Kept      []string      `json:"kept,omitempty"`
}

// reload re-reads the configuration and applies it by diff. Everything new
// is validated and built before anything old is touched, so a bad new
// configuration leaves the running one as it was.
func (a *Agent) reload() ReloadStatus {
	st := ReloadStatus{At: time.Now()}
	defer func() {
		st.Duration = time.Since(st.At)
		a.reloads.WithLabelValues(st.Outcome).Inc()
		a.mu.Lock()
		a.lastReload = &st
		a.mu.Unlock()
	}()
	fail := func(err error) ReloadStatus {
		st.Outcome, st.Error = "failed", err.Error()
		a.log.Error("reload failed; the running configuration stays in place", "err", err)
		return st
	}

	next, err := a.opts.Load()
	if err != nil {
		return fail(err)
	}
	old := a.config()
	if next.Fingerprint() == old.Fingerprint() {
		st.Outcome = "unchanged"
		a.log.Info("reload: configuration unchanged")
		return st
	}

	oldBackend := a.backendNow()
	b := oldBackend
	restartAll := false
	if a.opts.Data == nil && backendKey(next) != oldBackend.key {
		if b, err = a.startBackend(next); err != nil {
			return fail(err)
		}
		restartAll = true
	}
	a.mu.RLock()
	current := make(map[string]*running, len(a.jobs))
	for name, r := range a.jobs {
		current[name] = r
	}
	a.mu.RUnlock()
	oldSpecs := map[string]spec{}
	for name, r := range current {
		oldSpecs[name] = r.spec
	}
	nextSpecs := specs(next)
	p := diff(oldSpecs, nextSpecs, restartAll)

	built := map[string]*running{}
	for _, name := range slices.Concat(p.restart, p.start) {
		var prewarm = current[name].wanted()
		if restartAll {
			prewarm = nil
		}
		r, err := a.build(next, nextSpecs[name], b, prewarm)
		if err != nil {
			for _, r := range built {
				if r.sub != nil {
					r.sub.Close()
				}
			}
			if b != oldBackend {
				b.stop()
			}
			return fail(err)
		}
		built[name] = r
	}

	if err := a.status.listen(next.Status.Address); err != nil {
		a.log.Error("reload: status listener", "err", err)
	}
	a.opts.Logging.Set(next.LogLevel, next.LogFormat)

	// Stop what goes or changes, in parallel, then start the new versions.
	going := slices.Concat(p.stop, p.restart)
	for _, name := range going {
		current[name].cancel()
	}
	for _, name := range going {
		<-current[name].done
	}
	a.mu.Lock()
	a.cfg = next
	a.backend = b
	for _, name := range p.stop {
		delete(a.jobs, name)
	}
	for name, r := range built {
		a.jobs[name] = r
	}
	a.mu.Unlock()
	for _, name := range slices.Concat(p.restart, p.start) {
		a.start(built[name])
	}
	for _, name := range p.stop {
		a.metrics.Forget(name)
	}
	if b != oldBackend {
		oldBackend.stop()
	}
	st.Outcome = "ok"
	st.Started, st.Restarted, st.Stopped, st.Kept = p.start, p.restart, p.stop, p.keep
	a.log.Info("reloaded", "started", p.start, "restarted", p.restart, "stopped", p.stop, "kept", len(p.keep))
	return st
}

// sortedSpecs lists specs by name, for a stable start order.
func sortedSpecs(m map[string]spec) []spec {
	out := make([]spec, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b spec) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}
