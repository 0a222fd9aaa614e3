// Package watch is drcon's watcher pool: one poller per distinct dependency
// for the whole process, shared by every subscriber that wants it, started
// when the first subscriber wants the dependency and stopped when the last
// one lets go (a deleted key's kept value waits for the subscribers woken
// with it to execute, see Pool.release). A poller runs Consul blocking
// queries in a loop with consul-template's hygiene (last index,
// identical-data suppression, reset on a backwards index, max_stale, a
// jittered minimum gap, capped exponential backoff, cut short when another
// dependency recovers) and keeps the last data through outages. Subscribers
// read the latest answers and get a coalesced signal when one of theirs
// changes; the first answers of the dependencies a subscriber wants at once
// come as one signal, so that a template that discovers a hundred services
// executes once with all of them, not once per answer. Queries that do not
// block are bounded in number (Options.FirstQueries).
//
// The pool outlives configuration reloads: the agent keeps one Pool and gives
// each new job a new Subscription; a dependency that someone still wants keeps
// its poller and its data.
package watch

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// Pool is the set of watched dependencies. Its methods are safe for
// concurrent use.
type Pool struct {
	f Fetcher
	o Options

	mu       sync.RWMutex
	watchers map[dep.Dependency]*watcher
	subs     map[*Subscription]struct{}
	// retiring are the watchers that lost their last subscriber while
	// keeping a value, kept until the jobs they wait for have executed
	// (see release).
	retiring map[*watcher]struct{}
	runCtx   context.Context // set by Run; pollers start only once it is set
	stopped  bool            // Run is returning; no poller may start
	pollers  sync.WaitGroup

	// held is taken by an execution of a template (Subscription.Hold) and
	// by a poller comparing a new answer with the one executions read.
	held sync.Mutex

	queries, queryErrors, changes atomic.Uint64
	limitHinted                   atomic.Bool   // ErrConnectionLimit explained once
	first                         chan struct{} // a slot per non-blocking query in flight
	// resets counts the times Consul was found to have lost its state: the
	// indexes learned before are worthless (see reset).
	resets atomic.Uint64
	// heal wakes the dependencies sleeping in a failure backoff when
	// another recovers (see healed). Guarded by mu.
	heal *heal
}

// watcher is one watched dependency. Fields below mu are guarded by Pool.mu;
// value and has are written only by the dependency's poller.
type watcher struct {
	d      dep.Dependency
	key    string
	since  time.Time
	cancel context.CancelFunc // nil until the poller starts

	subs map[*Subscription]struct{}
	// waits holds, while w is retiring, the subscriptions it waits for,
	// with the count of their signals at its release.
	waits map[*Subscription]uint64
	// abort ends the blocking query in flight, if one is (see reset).
	abort context.CancelCauseFunc

	value      any
	has        bool
	kept       bool // value was kept over the answers since (dep.Dependency.NoData)
	absent     bool // an answer said the key does not exist, and none had data before
	index      uint64
	changedAt  time.Time
	answeredAt time.Time
	lastErr    string
	lastErrAt  time.Time
	failures   int
	failing    bool
}

// New returns a pool that fetches with f. Pollers run once Run is called.
func New(f Fetcher, o Options) *Pool {
	o = o.withDefaults()
	return &Pool{f: f, o: o, watchers: map[dep.Dependency]*watcher{}, subs: map[*Subscription]struct{}{},
		retiring: map[*watcher]struct{}{}, first: make(chan struct{}, o.FirstQueries), heal: newHeal()}
}

// Run runs the pollers until ctx ends, then stops them all and waits for
// them. Dependencies wanted before Run start when it starts. It returns nil
// when ctx ends, and an error if the pool was already run.
func (p *Pool) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.runCtx != nil {
		p.mu.Unlock()
		return errors.New("watch: pool already running")
	}
	p.runCtx = ctx
	for _, w := range p.watchers {
		p.start(w)
	}
	p.mu.Unlock()

	<-ctx.Done()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.pollers.Wait()
	return nil
}

// Subscribe returns a new subscription that wants nothing yet.
func (p *Pool) Subscribe() *Subscription {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := &Subscription{p: p, changed: make(chan struct{}, 1), want: map[dep.Dependency]*watcher{},
		first: map[*watcher]struct{}{}}
	p.subs[s] = struct{}{}
	return s
}

// acquire adds s to the subscribers of d, creating and starting its watcher
// if nobody wanted d. Called with p.mu held.
func (p *Pool) acquire(d dep.Dependency, s *Subscription) *watcher {
	w, ok := p.watchers[d]
	if !ok {
		w = &watcher{d: d, key: d.String(), since: time.Now(), subs: map[*Subscription]struct{}{}}
		p.watchers[d] = w
		p.start(w)
	}
	w.waits = nil
	delete(p.retiring, w)
	w.subs[s] = struct{}{}
	return w
}

// release removes s from the subscribers of w and stops w's poller (aborting
// its query) when s was the last. A watcher that keeps a deleted key's last
// value (kept) stays while subscriptions signalled before have yet to
// execute with that signal's data: consul-template forgets a dependency
// only after a run, which executes every template, left it unused, so a
// template that takes up the key in reaction to the change that makes
// another one drop it still gets that value. Called with p.mu held.
func (p *Pool) release(w *watcher, s *Subscription) {
	delete(w.subs, s)
	if len(w.subs) > 0 {
		return
	}
	if w.kept {
		w.waits = map[*Subscription]uint64{}
		for o := range p.subs {
			if o.signals > o.done {
				w.waits[o] = o.signals
			}
		}
		if len(w.waits) > 0 {
			p.retiring[w] = struct{}{}
			return
		}
	}
	p.stop(w)
}

// executed tells the retiring watchers that s has executed (or closed),
// and stops those that no longer wait for anyone. A watcher waits only for
// the signals sent before its release, so that one whose subscriptions keep
// being signalled while they execute still stops. Called with p.mu held.
func (p *Pool) executed(s *Subscription) {
	for w := range p.retiring {
		if at, ok := w.waits[s]; !ok || (!s.closed && s.done < at) {
			continue
		}
		delete(w.waits, s)
		if len(w.waits) == 0 {
			delete(p.retiring, w)
			p.stop(w)
		}
	}
}

// stop forgets w and ends its poller. Called with p.mu held.
func (p *Pool) stop(w *watcher) {
	delete(p.watchers, w.d)
	if w.cancel != nil {
		w.cancel()
	}
}

// start starts w's poller if Run is running. Called with p.mu held, which
// orders every pollers.Go before Run's pollers.Wait.
func (p *Pool) start(w *watcher) {
	if p.runCtx == nil || p.stopped {
		return
	}
	ctx, cancel := context.WithCancel(p.runCtx)
	w.cancel = cancel
	p.pollers.Go(func() {
		defer cancel()
		p.poll(ctx, w)
	})
}
