package agent

import (
	"slices"
	"strings"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/template/dep"
)

// ReloadStatus is the outcome of the last reload, for status and logs.
type ReloadStatus struct {
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	Outcome  string        `json:"outcome"` // ok | unchanged | failed
	// Error is every diagnostic of a failed reload, one per line;
	// Diagnostics lists them ("file:line:col: summary: detail").
	Error       string   `json:"error,omitempty"`
	Diagnostics []string `json:"diagnostics,omitempty"`
	Started     []string `json:"started,omitempty"`
	Restarted   []string `json:"restarted,omitempty"`
	Stopped     []string `json:"stopped,omitempty"`
	Kept        []string `json:"kept,omitempty"`
}

// Outcomes of a reload, also the values of the reloads metric's label.
const (
	reloadOK        = "ok"
	reloadUnchanged = "unchanged"
	reloadFailed    = "failed"
)

// change is a reload that has been validated and built, ready to commit.
type change struct {
	next       *config.Config
	plan       plan
	current    map[string]*running
	built      map[string]*running
	backend    *backend // the one the jobs will use: the old one unless replaced
	oldBackend *backend
	status     *binding // a new status listener, nil when the address stays
}

// reload re-reads the configuration and applies it by diff. Everything new
// is loaded, validated and built before anything old is touched, so that a
// bad configuration leaves the running one as it was. after, to be called
// once the reload has been answered, moves the status listener if the
// address changed (a POST /v1/reload is answered by the old one).
func (a *Agent) reload() (st ReloadStatus, after func()) {
	st.At = time.Now()
	after = func() {}
	defer func() {
		st.Duration = time.Since(st.At)
		a.reloads.WithLabelValues(st.Outcome).Inc()
		last := st
		a.mu.Lock()
		a.lastReload = &last
		a.mu.Unlock()
	}()

	next, err := a.opts.Load()
	if err != nil {
		a.reloadFailed(&st, err)
		return st, after
	}
	LogWarnings(a.log, next.Warnings)
	if next.Fingerprint() == a.config().Fingerprint() {
		st.Outcome = reloadUnchanged
		a.log.Info("reload: configuration unchanged")
		return st, after
	}
	c, err := a.prepare(next)
	if err != nil {
		a.reloadFailed(&st, err)
		return st, after
	}
	a.commit(c)
	p := c.plan
	st.Outcome = reloadOK
	st.Started, st.Restarted, st.Stopped, st.Kept = p.start, p.restart, p.stop, p.keep
	a.log.Info("reloaded", "started", p.start, "restarted", p.restart, "stopped", p.stop, "kept", len(p.keep))
	return st, func() { a.status.serve(c.status) }
}

// prepare builds what next needs beyond what runs now: a new backend if
// the consul {} block or the watcher settings changed, every new or
// changed job, a listener for a new status address. On error nothing of it
// is left behind.
func (a *Agent) prepare(next *config.Config) (*change, error) {
	c := &change{next: next, oldBackend: a.backendNow()}
	c.backend = c.oldBackend
	restartAll := false
	if a.opts.Data == nil && backendKey(next) != c.oldBackend.key {
		b, err := a.startBackend(next)
		if err != nil {
			return nil, &JobError{Job: "consul", Kind: "block", Err: err, invalid: true}
		}
		c.backend, restartAll = b, true
	}
	if err := a.prepareJobs(c, restartAll); err != nil {
		if c.backend != c.oldBackend {
			c.backend.stop()
		}
		return nil, err
	}
	return c, nil
}

// prepareJobs plans the reload and builds the new and changed jobs, and
// the status listener.
func (a *Agent) prepareJobs(c *change, restartAll bool) error {
	a.mu.RLock()
	c.current = make(map[string]*running, len(a.jobs))
	for name, r := range a.jobs {
		c.current[name] = r
	}
	a.mu.RUnlock()
	oldSpecs := make(map[string]spec, len(c.current))
	for name, r := range c.current {
		oldSpecs[name] = r.spec
	}
	nextSpecs := a.specs(c.next)
	c.plan = diff(oldSpecs, nextSpecs, restartAll)

	var list []spec
	for _, name := range slices.Concat(c.plan.restart, c.plan.start) {
		list = append(list, nextSpecs[name])
	}
	prewarm := func(name string) []dep.Dependency {
		if restartAll {
			return nil // a new pool: the old one's watchers cannot be shared
		}
		return c.current[name].wanted()
	}
	var err error
	if c.built, err = a.buildAll(c.next, list, c.backend, prewarm); err != nil {
		return err
	}
	if c.status, err = a.status.bind(c.next.Status.Address); err != nil {
		closeAll(c.built)
		return err
	}
	return nil
}

// commit stops what goes or changes, in parallel, then starts the new
// versions. Unchanged jobs are not touched.
func (a *Agent) commit(c *change) {
	old := a.config()
	a.opts.Logging.Set(c.next.LogLevel, c.next.LogFormat)
	if err := a.opts.Logging.SetSyslog(c.next.Syslog); err != nil {
		a.log.Error("reload: the log's syslog copy stays as it was", "err", err)
	}
	if err := a.opts.Logging.SetLogFile(c.next.LogFile); err != nil {
		a.log.Error("reload: the log's file copy stays as it was", "err", err)
	}
	for _, name := range c.plan.restart {
		c.current[name].handOver()
	}
	for _, name := range c.plan.stop {
		c.current[name].cancel()
	}
	for _, name := range slices.Concat(c.plan.restart, c.plan.stop) {
		<-c.current[name].done
	}
	a.mu.Lock()
	a.cfg = c.next
	a.backend = c.backend
	for _, name := range c.plan.stop {
		delete(a.jobs, name)
	}
	for name, r := range c.built {
		a.jobs[name] = r
	}
	a.mu.Unlock()
	for _, name := range slices.Concat(c.plan.restart, c.plan.start) {
		a.start(c.built[name])
	}
	for _, name := range c.plan.stop {
		a.metrics.Forget(name)
	}
	if c.backend != c.oldBackend {
		c.oldBackend.stop()
	}
	a.replaceChild(c.next)
	if c.next.PidFile != old.PidFile {
		removePidFile(old.PidFile)
		if err := writePidFile(c.next.PidFile); err != nil {
			a.log.Error("reload: pid file", "err", err)
		}
	}
}

// reloadFailed records and logs a reload that changed nothing: one log
// line per diagnostic, so that each names its place.
func (a *Agent) reloadFailed(st *ReloadStatus, err error) {
	st.Outcome = reloadFailed
	ds := diagnostics(err)
	for _, d := range ds {
		st.Diagnostics = append(st.Diagnostics, d.String())
		attrs := []any{"at", d.at, "error", d.msg}
		if d.job != "" {
			attrs = append(attrs, "job", d.job)
		}
		a.log.Error("reload: invalid configuration", attrs...)
	}
	st.Error = strings.Join(st.Diagnostics, "\n")
	a.log.Error("reload failed; the running configuration stays in place", "diagnostics", len(ds))
}
