package register

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// round is one full reconcile: it is done when every container it queued
// has been converged.
type round struct {
	mu   sync.Mutex
	left int
	errs []error
	done chan struct{}
}

func newRound(n int) *round {
	r := &round{left: n, done: make(chan struct{})}
	if n == 0 {
		close(r.done)
	}
	return r
}

func (r *round) finish(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
	}
	if r.left--; r.left == 0 {
		close(r.done)
	}
}

func (r *round) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// Backoff of failed reconciles.
const (
	reconcileRetryMin = 200 * time.Millisecond
	reconcileRetryMax = 10 * time.Second
)

// reconciler runs full reconciles when asked (at start, after reconnects,
// when the agent comes back) and every resync, one at a time.
func (j *Job) reconciler(ctx context.Context) error {
	var tick <-chan time.Time
	if j.cfg.Resync > 0 {
		t := time.NewTicker(j.cfg.Resync)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTimer(0)
	retry.Stop()
	defer retry.Stop()
	failures := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-j.kick:
		case <-tick:
		case <-retry.C:
		}
		if !j.connected() {
			continue // Docker and Consul ask again when they answer
		}
		start := time.Now()
		err := j.reconcile(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			failures++
			delay := min(reconcileRetryMin<<min(failures-1, 16), reconcileRetryMax)
			j.fail(fmt.Sprintf("reconcile failed; again in %s", delay), err)
			retry.Reset(delay)
			continue
		}
		failures = 0
		j.synced(start)
		j.log.Debug("reconciled", "took", time.Since(start))
	}
}

// reconcile lists the engine's running containers and the agent's services
// of this block, and queues every container of either (and every container
// drcon remembers) for a pass that compares against that listing.
func (j *Job) reconcile(ctx context.Context) error {
	id := j.identity()
	// Reconciles run one at a time and wait for their round, so no older
	// listing is pending: only entries dropped from now on can meet this
	// one's listing again.
	j.mu.Lock()
	j.gone = map[string]uint64{}
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		j.gone = nil
		j.mu.Unlock()
	}()
	listed := j.seq.Add(1)
	running, err := j.docker.running(ctx)
	if err != nil {
		return err
	}
	lost := j.agentLost.Load()
	agent, err := j.agent.self(ctx)
	if err != nil {
		return err
	}
	// The services missing from this listing were removed from the agent
	// they were registered with (see snapshot.sameAgent) only if it is the
	// same node and drcon never lost it since: Consul 1.14 tells neither
	// when the agent started nor since when a check is critical.
	sameAgent := agent.nodeID != "" && agent.nodeID == j.agentNode && lost == j.agentLostAt
	j.agentNode, j.agentLostAt = agent.nodeID, lost
	services, err := j.agent.owned(ctx, id.Owner, "")
	if err != nil {
		return err
	}
	checks, err := j.agent.checks(ctx)
	if err != nil {
		return err
	}
	if j.agentLost.Load() != lost {
		sameAgent = false // lost while listing
	}
	snaps := byContainer(services, checks)
	ids := map[string]bool{}
	for _, c := range running {
		if j.set.matches(c.Labels) {
			ids[c.ID] = true
		}
	}
	for cid := range snaps {
		ids[cid] = true
	}
	j.mu.Lock()
	for cid := range j.entries {
		ids[cid] = true
	}
	j.mu.Unlock()
	r := newRound(len(ids))
	for cid := range ids {
		s := snaps[cid]
		if s == nil {
			s = map[string]actualService{}
		}
		j.q.push(cid, &work{converge: true, snap: &snapshot{seq: listed, services: s, sameAgent: sameAgent}, rounds: []*round{r}})
	}
	select {
	case <-r.done:
		return r.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}
