package register

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	docker "github.com/fsouza/go-dockerclient"
	"github.com/hashicorp/consul/api"
)

// entry is drcon's memory of one container. The queue hands a container to
// one worker at a time, and only that worker touches the entry's fields,
// except running and serviceIDs, which are for Status, and claims, which
// are kept under Job.mu.
type entry struct {
	name string // container name, for log lines
	// actual is what the agent has for the container; nil when unknown
	// (after a failed write, or before the first reconcile), and then
	// read from the agent.
	actual   map[string]actualService
	seq      uint64 // when actual was last written or listed (Job.seq)
	stopping time.Time
	kills    map[int]time.Time // signals sent, not yet compared with its stop signal
	ttls     []ttlCheck        // the TTL checks to refresh
	every    time.Duration     // refresh period of the TTL checks
	warned   map[string]bool
	attempts int // failed passes in a row

	running    bool
	serviceIDs []string
	claims     map[string]bool // the service IDs it holds (claims.go)

	// reapable are the services whose check has a deregister-after, which
	// Consul removes once the check has been critical that long; reaped
	// are those it removed, not registered again until the container
	// starts again (started is when it last did), so that Consul's removal
	// stands, as it does under registrator.
	reapable map[string]bool
	reaped   map[string]bool
	started  time.Time
}

// Bounds of the retries of a container whose pass failed.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 30 * time.Second
)

// work is one worker: it converges containers as their work comes.
func (j *Job) work(ctx context.Context) error {
	for {
		id, w, ok := j.q.next(ctx)
		if !ok {
			return nil
		}
		err := j.handle(ctx, id, w)
		j.q.done(id)
		// A container whose registration the agent refuses (script checks
		// disabled, say) is retried and reported on its own; it does not
		// hold back the block's reconcile, and so its readiness, for ever.
		if refusedByConsul(err) {
			err = nil
		}
		for _, r := range w.rounds {
			r.finish(err)
		}
	}
}

// handle does a container's pending work and schedules what comes next: a
// retry after a failure, the next refresh of its TTL checks.
func (j *Job) handle(ctx context.Context, id string, w *work) error {
	e := j.entry(id)
	if w.stopping.After(e.stopping) {
		e.stopping = w.stopping
		if w.event {
			j.drainAtOnce(ctx, id, e)
		}
	}
	e.kills = mergeKills(e.kills, w.kills)
	if w.snap != nil && w.snap.seq > e.seq {
		if w.snap.sameAgent {
			e.noteReaped(w.snap.services)
		}
		e.actual, e.seq = w.snap.services, w.snap.seq
	}
	if w.healthy && j.set.health {
		// Services Consul reaped for a health that is back register again,
		// as after a restart. The agent is read: drcon may not have
		// noticed the reap yet.
		e.reaped, e.actual = nil, nil
	}
	var err error
	if w.converge || e.actual == nil {
		err = j.converge(ctx, id, e, w.event)
	} else if w.refresh {
		err = j.refresh(ctx, e)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.attempts++
		delay := min(retryMin<<min(e.attempts-1, 16), retryMax)
		j.fail(fmt.Sprintf("container %s: will retry in %s", e.label(id), delay), err)
		j.q.later(id, delay, &work{converge: true, event: w.event})
		return err
	}
	e.attempts = 0
	if len(e.ttls) > 0 {
		j.q.later(id, e.every, &work{refresh: true})
	}
	return nil
}

// drainAtOnce puts the container's services in maintenance as soon as it
// is told to stop, from what drcon knows the agent has, before the pass
// inspects it: Docker answers the inspect of a container that a SIGKILL
// ended only once it has torn the container down (its network among the
// rest), measured at 0.4-0.8 s, while the load balancer still sends it
// requests. The pass that follows decides as ever; a write that fails
// here leaves it to read the agent.
func (j *Job) drainAtOnce(ctx context.Context, id string, e *entry) {
	var actions []action
	reason := stoppingReason(e.stopping)
	for _, sid := range sortedKeys(e.actual) {
		if !e.actual[sid].Maint {
			actions = append(actions, action{kind: actMaintOn, service: sid, reason: reason})
		}
	}
	if len(actions) == 0 {
		return
	}
	err := j.apply(ctx, e.label(id), actions)
	e.seq = j.seq.Add(1)
	if err != nil {
		e.actual = nil
		return
	}
	for _, a := range actions {
		s := e.actual[a.service]
		s.Maint, s.Stopping = true, e.stopping
		e.actual[a.service] = s
	}
}

// entry returns the container's entry, creating it. Once a reconcile has
// listed the agent, a container it did not see has no services. An entry
// made again for a container whose entry was dropped during a reconcile
// keeps the dropped one's seq: that reconcile's listing, which may still
// show services drcon since deregistered, is older.
func (j *Job) entry(id string) *entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.entries[id]
	if !ok {
		e = &entry{warned: map[string]bool{}, seq: j.gone[id]}
		if j.st.baseline {
			e.actual = map[string]actualService{}
		}
		j.entries[id] = e
	}
	return e
}

func (e *entry) label(id string) string {
	if e.name != "" {
		return e.name
	}
	return shortID(id)
}

// converge inspects the container, decides its services and applies the
// difference with what the agent has.
func (j *Job) converge(ctx context.Context, id string, e *entry, event bool) error {
	c, err := j.docker.inspect(ctx, id)
	if err != nil {
		return fmt.Errorf("inspect: %w", err)
	}
	if c != nil {
		// `docker stop` sends the container's own stop signal.
		if at := e.kills[containerStopSignal(c)]; at.After(e.stopping) {
			e.stopping = at
		}
	}
	e.kills = nil
	o := observation{c: c, event: event}
	if c != nil {
		e.name = containerName(c)
		if target, ok := strings.CutPrefix(networkMode(c), "container:"); ok && c.State.Running {
			if o.netc, err = j.docker.inspect(ctx, target); err != nil {
				return fmt.Errorf("inspect network namespace owner %s: %w", shortID(target), err)
			}
		}
	}
	id2 := j.identity()
	if e.actual == nil {
		if e.actual, err = j.agentState(ctx, id2.Owner, id); err != nil {
			return err
		}
	}
	// A stop signal sent before drcon (re)started is on the agent only.
	for _, a := range e.actual {
		if a.Stopping.After(e.stopping) {
			e.stopping = a.Stopping
		}
	}
	o.stopping = e.stopping
	d := decide(o, j.set, id2)
	j.keepReaped(e, id, c, &d)
	j.claim(id, e, &d)
	for _, w := range d.warnings {
		if s := w.String(); !e.warned[s] {
			e.warned[s] = true
			j.log.Warn("container setting ignored", "container", e.label(id), "problem", s)
		}
	}
	p := diff(d, e.actual)
	applyErr := j.apply(ctx, e.label(id), p.actions)
	if len(p.actions) > 0 {
		e.seq = j.seq.Add(1)
	}
	if applyErr != nil {
		e.actual = nil
		return applyErr
	}
	for _, outcome := range p.outcomes {
		j.countOutcome(outcome)
	}
	e.actual = after(d, e.actual)
	e.ttls, e.every = nil, 0
	e.reapable = map[string]bool{}
	for _, svc := range d.services {
		for _, chk := range svc.Reg.Checks {
			if chk.DeregisterCriticalServiceAfter != "" {
				e.reapable[svc.Reg.ID] = true
			}
		}
		for _, t := range svc.TTLs {
			e.ttls = append(e.ttls, t)
			if every := max(t.TTL/3, retryMin); e.every == 0 || every < e.every {
				e.every = every
			}
		}
	}
	ids := sortedKeys(e.actual)
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(ids) > 0 && len(e.serviceIDs) == 0 {
		// The agent may now have a service to watch.
		select {
		case j.owning <- struct{}{}:
		default:
		}
	}
	e.running = d.running
	e.serviceIDs = ids
	j.release(id, e)
	if len(e.actual) == 0 && !d.running {
		delete(j.entries, id)
		if j.gone != nil {
			j.gone[id] = e.seq
		}
	}
	return nil
}

// noteReaped records the services the agent no longer has, in listed, that
// Consul may have removed for their critical check.
func (e *entry) noteReaped(listed map[string]actualService) {
	for id := range e.actual {
		if _, ok := listed[id]; !ok && e.reapable[id] {
			if e.reaped == nil {
				e.reaped = map[string]bool{}
			}
			e.reaped[id] = true
		}
	}
}

// keepReaped leaves out of d the services Consul removed, until the
// container starts again.
func (j *Job) keepReaped(e *entry, id string, c *docker.Container, d *decision) {
	if c == nil {
		e.reaped = nil
		return
	}
	if !c.State.StartedAt.Equal(e.started) {
		e.started, e.reaped = c.State.StartedAt, nil
	}
	if len(e.reaped) == 0 {
		return
	}
	kept := d.services[:0]
	for _, svc := range d.services {
		if !e.reaped[svc.Reg.ID] {
			kept = append(kept, svc)
			continue
		}
		if key := "reaped " + svc.Reg.ID; !e.warned[key] {
			e.warned[key] = true
			j.log.Info("service removed by consul after its check stayed critical (deregister after); registered again when the container starts again",
				"container", e.label(id), "service", svc.Reg.ID)
		}
	}
	d.services = kept
}

// agentState reads a container's services from the agent.
func (j *Job) agentState(ctx context.Context, owner, id string) (map[string]actualService, error) {
	services, err := j.agent.owned(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	checks := map[string]*api.AgentCheck{}
	if len(services) > 0 {
		if checks, err = j.agent.checks(ctx); err != nil {
			return nil, err
		}
	}
	if s := byContainer(services, checks)[id]; s != nil {
		return s, nil
	}
	return map[string]actualService{}, nil
}

// apply makes the writes of a plan. A service whose registration failed
// gets no more writes; the others still get theirs.
func (j *Job) apply(ctx context.Context, container string, actions []action) error {
	var errs []error
	failed := map[string]bool{}
	for _, a := range actions {
		if failed[a.service] {
			continue
		}
		var err error
		switch a.kind {
		case actRegister:
			if err = j.agent.register(ctx, a.reg); err == nil {
				j.countWrite("register")
				j.log.Info("registered", "container", container, "service", a.service, "name", a.reg.Name,
					"address", a.reg.Address, "port", a.reg.Port)
			}
		case actDeregister:
			if err = j.agent.deregister(ctx, a.service); err == nil {
				j.countWrite("deregister")
				j.log.Info("deregistered", "container", container, "service", a.service)
			}
		case actMaintOn, actMaintOff:
			if err = j.agent.maintenance(ctx, a.service, a.kind == actMaintOn, a.reason); err == nil {
				j.countWrite("check_update")
				j.log.Info("maintenance", "container", container, "service", a.service, "on", a.kind == actMaintOn, "reason", a.reason)
			}
		case actTTL:
			if err = j.agent.updateTTL(ctx, a.check, a.status, a.output); err == nil {
				j.countWrite("check_update")
				j.log.Debug("check updated", "container", container, "check", a.check, "status", a.status)
			}
		}
		if err != nil {
			failed[a.service] = true
			errs = append(errs, fmt.Errorf("service %s: %s: %w", a.service, a.kind, err))
		}
	}
	return errors.Join(errs...)
}

func (k actionKind) String() string {
	switch k {
	case actRegister:
		return "register"
	case actDeregister:
		return "deregister"
	case actMaintOn:
		return "enable maintenance"
	case actMaintOff:
		return "disable maintenance"
	}
	return "update TTL check"
}

// refresh sends the statuses of the container's TTL checks again before
// their TTL runs out, except to a SERVICE_CHECK_TTL check that something
// else has updated since (foreignTTL): its writer keeps it.
func (j *Job) refresh(ctx context.Context, e *entry) error {
	var current map[string]*api.AgentCheck
	ids := make([]string, 0, len(e.ttls))
	for _, t := range e.ttls {
		if strings.HasPrefix(t.ID, userCheckPrefix) {
			ids = append(ids, t.ID)
		}
	}
	if len(ids) > 0 {
		var err error
		if current, err = j.agent.checksByID(ctx, ids); err != nil {
			e.actual = nil
			return fmt.Errorf("refresh checks: %w", err)
		}
	}
	for _, t := range e.ttls {
		if c, ok := current[t.ID]; ok && foreignTTL(c) {
			if !e.warned["foreign:"+t.ID] {
				e.warned["foreign:"+t.ID] = true
				j.log.Info("TTL check updated by another writer, left to it", "container", e.name, "check", t.ID, "output", c.Output)
			}
			continue
		}
		if err := j.agent.updateTTL(ctx, t.ID, t.Status, t.Output); err != nil {
			// The agent lost the check: read what it has next time.
			e.actual = nil
			return fmt.Errorf("refresh check %s: %w", t.ID, err)
		}
		j.countWrite("check_update")
	}
	return nil
}
