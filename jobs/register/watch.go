package register

import (
	"context"
	"fmt"
	"time"
)

// backoff doubles a delay from min up to max.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	b.cur = min(max(b.cur*2, b.min), b.max)
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// failures logs an error that repeats once, until another one comes or
// the failures stop: a retry loop that polls an absent agent or engine
// several times a second must not fill the log.
type failures struct {
	j    *Job
	what string
	last string
}

func (f *failures) fail(err error) {
	if msg := err.Error(); msg != f.last {
		f.j.fail(f.what, err)
		f.last = msg
		return
	}
	f.j.record(err)
}

func (f *failures) ok() { f.last = "" }

// sleep waits d or until ctx ends, and reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchDocker follows the engine's events, reconnecting for ever when the
// stream ends (a daemon restart ends it), and asks for a full reconcile after
// every (re)subscription, because events of the gap are lost.
func (j *Job) watchDocker(ctx context.Context) error {
	bo := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	f := failures{j: j, what: "docker"}
	for {
		err := j.followDocker(ctx, &bo, &f)
		j.setDocker(false)
		if ctx.Err() != nil {
			return nil
		}
		f.fail(err)
		if !sleep(ctx, bo.next()) {
			return nil
		}
	}
}

func (j *Job) followDocker(ctx context.Context, bo *backoff, f *failures) error {
	eng, err := j.docker.connect(ctx)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", j.dockerHost, err)
	}
	j.setEngine(eng)
	// Subscribe from a little before the engine's "now": whatever changes
	// after the reconcile's listing is in the stream, replays included.
	since := eng.Time
	if !since.IsZero() {
		since = since.Add(-time.Second)
	}
	stream, err := j.docker.events(ctx, since)
	if err != nil {
		return err
	}
	defer stream.close()
	j.setDocker(true)
	j.log.Info("following docker events", "engine", eng.Name, "docker_host", j.dockerHost)
	bo.reset()
	f.ok()
	j.kickReconcile()
	for {
		ev, err := stream.next()
		if err != nil {
			return fmt.Errorf("docker event stream ended: %w", err)
		}
		j.dispatch(ev, eng.Time)
	}
}

// watchConsul notices the agent going away and coming back (a restart that
// may have lost every service) and asks for a full reconcile each time it
// comes back. While the agent is up it holds a blocking query on the agent,
// so a restart breaks the connection at once; while it is away it is asked
// again, every quarter of a second at most, until it answers.
func (j *Job) watchConsul(ctx context.Context) error {
	bo := backoff{min: 50 * time.Millisecond, max: 250 * time.Millisecond}
	f := failures{j: j, what: "consul agent"}
	for {
		info, err := j.agent.self(ctx)
		if err == nil {
			j.setConsul(true, info.addr)
			bo.reset()
			f.ok()
			j.kickReconcile()
			err = j.holdAgent(ctx)
		}
		j.agentLost.Add(1)
		j.setConsul(false, "")
		if ctx.Err() != nil {
			return nil
		}
		f.fail(err)
		if !sleep(ctx, bo.next()) {
			return nil
		}
	}
}

// idlePing is how often an agent is looked at while drcon has no service
// on it to watch.
const idlePing = 10 * time.Second

// holdAgent watches one of the block's services on the agent (the first by
// ID) with hash-blocking queries, until the agent is unreachable. An agent
// that restarted answers at once that it does not have the service, also
// when the restart fell between two queries. An answer with an error status
// means the agent is up: it is asked again later.
func (j *Job) holdAgent(ctx context.Context) error {
	bo := backoff{min: 200 * time.Millisecond, max: 5 * time.Second}
	idle := time.NewTimer(idlePing)
	defer idle.Stop()
	var watched, hash string
	for {
		id := j.sentinel()
		if id != watched {
			watched, hash = id, ""
		}
		if id == "" {
			idle.Reset(idlePing)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-j.owning:
			case <-idle.C:
			}
			if _, err := j.agent.self(ctx); err != nil {
				return err
			}
			continue
		}
		next, found, err := j.agent.waitService(ctx, id, hash)
		switch {
		case isStatus(err):
			j.record(err)
		case err != nil:
			return err
		case !found && j.owns(id):
			j.log.Info("the consul agent lost the block's services; reconciling", "service", id)
			j.kickReconcile()
		case found:
			hash = next
			bo.reset()
			continue
		default:
			continue // drcon deregistered it meanwhile
		}
		if !sleep(ctx, bo.next()) {
			return ctx.Err()
		}
	}
}
