package register

import (
	"slices"
	"sort"
	"time"

	"github.com/drcon/drcon/jobs"
)

// States a registrator reports.
const (
	stateStarting          = "starting"
	stateRunning           = "running"
	stateDockerUnavailable = "docker unavailable"
	stateConsulUnavailable = "consul unavailable"
	stateStopped           = "stopped"
)

// status is what Status reports, kept under Job.mu.
type status struct {
	state       string
	dockerUp    bool
	consulUp    bool
	ready       bool
	lastErr     string
	lastErrAt   time.Time
	lastSync    time.Time
	nodeKnown   bool
	engineKnown bool
	baseline    bool // a reconcile completed: containers not cached have no services
}

// Status is a snapshot of the job.
func (j *Job) Status() jobs.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := jobs.Status{
		Name:        j.name,
		Kind:        jobs.KindRegistrator,
		State:       j.st.state,
		Ready:       j.st.ready,
		LastError:   j.st.lastErr,
		LastErrorAt: j.st.lastErrAt,
		DockerHost:  j.dockerHost,
		LastSync:    j.st.lastSync,
	}
	for _, e := range j.entries {
		if e.running {
			st.Containers++
		}
		st.Services = append(st.Services, e.serviceIDs...)
	}
	sort.Strings(st.Services)
	return st
}

// sentinel is the first by ID of the services drcon believes the agent
// has for this block, "" if none: the one holdAgent watches.
func (j *Job) sentinel() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	first := ""
	for _, e := range j.entries {
		for _, id := range e.serviceIDs {
			if first == "" || id < first {
				first = id
			}
		}
	}
	return first
}

// owns reports whether drcon believes the agent has service id.
func (j *Job) owns(id string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.entries {
		if slices.Contains(e.serviceIDs, id) {
			return true
		}
	}
	return false
}

func (j *Job) setState(s string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.st.state = s
}

// updateState derives the state from what is up; call with j.mu held.
func (j *Job) updateState() {
	switch {
	case j.st.state == stateStopped:
	case j.st.dockerUp && j.st.consulUp:
		j.st.state = stateRunning
	case !j.st.dockerUp:
		j.st.state = stateDockerUnavailable
	default:
		j.st.state = stateConsulUnavailable
	}
}

func (j *Job) fail(what string, err error) {
	j.record(err)
	j.log.Warn(what, "err", err)
}

// record keeps err for Status without logging it.
func (j *Job) record(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.st.lastErr = err.Error()
	j.st.lastErrAt = time.Now()
}

// setEngine names the block's services after the first engine that
// answers, for the life of the job, so that a reconnect cannot orphan them.
func (j *Job) setEngine(eng engineInfo) {
	j.mu.Lock()
	defer j.mu.Unlock()
	host := eng.Name
	if host == "" {
		host = eng.ID
	}
	switch {
	case !j.st.engineKnown:
		j.id.Host, j.id.Owner = host, host+"/"+j.name
		j.st.engineKnown = true
	case host != j.id.Host:
		j.log.Warn("docker engine has another name than when drcon started; keeping the first",
			"first", j.id.Host, "now", host)
	}
}

func (j *Job) setDocker(up bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.st.dockerUp = up
	j.updateState()
}

func (j *Job) setConsul(up bool, nodeAddr string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.st.consulUp = up
	if up {
		j.id.NodeAddr = nodeAddr
		j.st.nodeKnown = true
	}
	j.updateState()
}

// connected reports whether both sides have answered, so that a reconcile
// can run.
func (j *Job) connected() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.st.dockerUp && j.st.nodeKnown
}

func (j *Job) synced(at time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.st.ready = true
	j.st.baseline = true
	j.st.lastSync = at
}

func (j *Job) countWrite(action string) {
	if j.metrics != nil {
		j.metrics.Registrations.WithLabelValues(j.name, action).Inc()
	}
}

func (j *Job) countOutcome(outcome string) {
	if j.metrics != nil {
		j.metrics.ReconcileActions.WithLabelValues(j.name, outcome).Inc()
	}
}

func (j *Job) countEvent(label string) {
	if j.metrics != nil {
		j.metrics.DockerEvents.WithLabelValues(j.name, label).Inc()
	}
}
