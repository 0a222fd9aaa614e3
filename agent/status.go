package agent

import (
	"slices"
	"strings"
	"time"

	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/child"
	"github.com/drcon/drcon/template/dedup"
	"github.com/drcon/drcon/template/watch"
)

// Status is the document served at GET /v1/status.
type Status struct {
	Version     string        `json:"version"`
	Started     time.Time     `json:"started"`
	ConfigFiles []string      `json:"config_files"`
	Healthy     bool          `json:"healthy"`
	Stopping    bool          `json:"stopping,omitempty"`
	LastReload  *ReloadStatus `json:"last_reload,omitempty"`
	Jobs        []JobStatus   `json:"jobs"`
	// Dependencies is every dependency watched, with its subscribers.
	Dependencies []DependencyState `json:"dependencies,omitempty"`
	// Dedup is the agent's part in sharing data with other agents.
	Dedup *dedup.Status `json:"dedup,omitempty"`
	// Exec is exec mode's child.
	Exec *child.Status `json:"exec,omitempty"`
}

// JobStatus is a job's own status with the age of its dependencies' data.
type JobStatus struct {
	jobs.Status
	Dependencies []DependencyState `json:"dependencies,omitempty"`
}

// DependencyState is one watched dependency as status shows it. Age is how
// long ago Consul last answered for it: it stays below the blocking query
// wait while Consul answers, and grows during an outage; it is nil (absent
// from the JSON) while there is no data, which has no age.
type DependencyState struct {
	Name        string         `json:"name"`
	Subscribers int            `json:"subscribers,omitempty"`
	HasData     bool           `json:"has_data"`
	Age         *time.Duration `json:"age_ns,omitempty"`
	// Failures counts the queries that failed in a row; any answer resets
	// it, while LastError stays.
	Failures  int    `json:"failures,omitempty"`
	Failing   bool   `json:"failing,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// Status gathers the status of the agent and every job.
func (a *Agent) Status() Status {
	a.mu.RLock()
	cfg, b, last, stopping, cr := a.cfg, a.backend, a.lastReload, a.stopping, a.child
	list := make([]*running, 0, len(a.jobs))
	for _, r := range a.jobs {
		list = append(list, r)
	}
	a.mu.RUnlock()

	deps := map[string]DependencyState{}
	var all []DependencyState
	if b != nil {
		for _, d := range b.pool.Status() {
			s := dependencyState(d)
			deps[s.Name] = s
			all = append(all, s)
		}
	}
	st := Status{Version: a.opts.Version, Started: a.started, ConfigFiles: cfg.Files, LastReload: last,
		Healthy: !stopping, Stopping: stopping, Dependencies: all, Dedup: b.dedupStatus()}
	if cr != nil {
		cs := cr.child.Status()
		st.Exec = &cs
	}
	for _, r := range list {
		js := JobStatus{Status: r.job.Status()}
		js.Name, js.Kind = r.spec.name, r.spec.kind
		if r.ended() && r.err != nil {
			js.State, js.LastError = "failed", r.err.Error()
		}
		for _, name := range js.Status.Dependencies {
			d, ok := deps[name]
			if !ok {
				d = DependencyState{Name: name}
			}
			js.Dependencies = append(js.Dependencies, d)
		}
		if !js.Ready {
			st.Healthy = false
		}
		st.Jobs = append(st.Jobs, js)
	}
	slices.SortFunc(st.Jobs, func(x, y JobStatus) int { return strings.Compare(x.Name, y.Name) })
	return st
}

func dependencyState(d watch.DependencyStatus) DependencyState {
	s := DependencyState{Name: d.Dependency, Subscribers: d.Subscribers, HasData: d.HasData,
		Failures: d.Failures, Failing: d.Failing, LastError: d.LastError}
	if d.HasData {
		// Before the first answer, the pool's age is how long the
		// dependency has been watched.
		s.Age = &d.Age
	}
	return s
}
