package watch

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"time"
)

// poll runs the queries of one dependency until ctx ends: one query in flight
// at a time, each waiting on the index of the last answer.
func (p *Pool) poll(ctx context.Context, w *watcher) {
	log := p.o.Logger.With("dependency", w.key)
	cur := cursor{maxStale: p.o.MaxStale}
	failures := 0
	resets := p.resets.Load()
	var lastGood uint64   // the index before the current failures
	woken := false        // the last backoff was cut short by a heal
	unhealed := newHeal() // never closed: a backoff that runs to its end
	for {
		if n := p.resets.Load(); n != resets {
			resets = n
			cur.failed() // ask afresh
		}
		q := cur.options(p.o.BlockQueryWait)
		start := time.Now()
		v, m, err := p.fetch(ctx, w, q, resets)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReset) {
			continue
		}
		if err != nil {
			if failures == 0 {
				lastGood = cur.index
			}
			failures++
			cur.failed()
			h := p.failed(w, err, failures, log)
			if woken {
				h = unhealed
			}
			var ok bool
			if ok, woken = backoff(ctx, jitterDown(p.o.Retry.delay(failures)), h); !ok {
				return
			}
			continue
		}
		if failures >= p.o.Retry.Attempts {
			log.Info("dependency recovered", "failures", failures)
		}
		if failures > 0 && m.LastIndex < lastGood {
			log.Info("Consul's index went back during the outage: its state was reset; every dependency asks afresh",
				"before", lastGood, "now", m.LastIndex)
			resets = p.reset(w)
		}
		recovered := failures > 0
		failures, woken = 0, false
		verdict := cur.answer(q, m)
		empty := verdict == moved && w.d.NoData(v)
		kept := w.kept
		if verdict == moved {
			kept = empty && w.has
		}
		changed := verdict == moved && !empty && !(w.has && p.same(w, v))
		p.answered(w, answer{index: cur.index, v: v, changed: changed, kept: kept, absent: empty && !w.has, recovered: recovered})
		switch verdict {
		case tooStale:
			continue // ask the leader at once
		case rewound:
			log.Debug("index went backwards; asking afresh", "index", m.LastIndex)
		}
		if changed {
			log.Debug("data changed", "index", cur.index)
		}
		if p.o.FirstDataOnly && w.has {
			return // w.has is written by this poller only (in answered)
		}
		if !sleep(ctx, jitterUp(p.o.MinGap)-time.Since(start)) {
			return
		}
	}
}

// same reports whether v equals w's answer. Only this poller writes
// w.value, so the comparison stays outside the lock that Recall takes; it
// holds the answers against executions, which may write into them.
func (p *Pool) same(w *watcher, v any) bool {
	p.held.Lock()
	defer p.held.Unlock()
	return reflect.DeepEqual(w.value, v)
}

// fetch sends one query, bounded by the query deadline; a query that does
// not block first waits for one of the FirstQueries slots. A blocking query
// built before the resets-th reset is not sent.
func (p *Pool) fetch(ctx context.Context, w *watcher, q QueryOptions, resets uint64) (any, ResponseMeta, error) {
	if q.WaitIndex == 0 {
		select {
		case p.first <- struct{}{}:
			defer func() { <-p.first }()
		case <-ctx.Done():
			return nil, ResponseMeta{}, ctx.Err()
		}
	}
	p.queries.Add(1)
	ctx, cancel := context.WithTimeout(ctx, p.o.queryDeadline())
	defer cancel()
	if q.WaitIndex > 0 {
		var abort context.CancelCauseFunc
		ctx, abort = context.WithCancelCause(ctx)
		p.mu.Lock()
		w.abort = abort
		stale := p.resets.Load() != resets
		p.mu.Unlock()
		if stale {
			abort(errReset)
		}
		defer func() {
			p.mu.Lock()
			w.abort = nil
			p.mu.Unlock()
			abort(nil)
		}()
	}
	v, m, err := p.f.Fetch(ctx, w.d, q)
	if err != nil && errors.Is(context.Cause(ctx), errReset) {
		return nil, ResponseMeta{}, errReset
	}
	return v, m, err
}

// errReset ends a blocking query that reset aborted.
var errReset = errors.New("consul's state was reset; asking afresh")

// reset makes every dependency but w ask afresh, and aborts their blocking
// queries in flight. w came back from an outage with an index below the one
// it had: Consul lost its state (a restarted dev agent, a restored
// snapshot), and its new indexes start low, so a query waiting on an index
// learned before would be held until its wait runs out (the others that
// failed ask afresh anyway). One lagging server does not trigger it: only
// an answer after failed queries does.
// It returns the new count of resets.
func (p *Pool) reset(w *watcher) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.resets.Add(1)
	for _, o := range p.watchers {
		if o != w && o.abort != nil {
			o.abort(errReset)
		}
	}
	return n
}

// answer is a successful answer to a query, as the poller judged it.
type answer struct {
	index uint64
	v     any
	// changed: v becomes the data and every subscriber of w is signalled.
	changed bool
	// kept: the data was kept over the answers since it.
	kept bool
	// absent: v says the key does not exist, and w has no data.
	absent bool
	// recovered: queries of w failed before it; the others failing are
	// woken (see healed).
	recovered bool
}

// answered publishes a successful answer.
func (p *Pool) answered(w *watcher, a answer) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	w.index = a.index
	w.kept = a.kept
	w.answeredAt = now
	w.failures = 0
	w.failing = false
	if a.changed {
		w.value, w.has, w.changedAt = a.v, true, now
		p.changes.Add(1)
	}
	// The first answer to say that the key is absent wakes the subscribers
	// that fail on it; later ones say nothing new.
	absent := a.absent && !w.absent
	w.absent = w.absent || a.absent
	for s := range w.subs {
		s.settle(w, a.changed || absent && s.failLookups)
	}
	if a.recovered {
		p.healed(w)
	}
}

// failed publishes the n-th consecutive failure; the data is kept. It
// returns the heal that ends w's backoff early.
func (p *Pool) failed(w *watcher, err error, n int, log *slog.Logger) *heal {
	p.queryErrors.Add(1)
	attempts := p.o.Retry.Attempts
	p.mu.Lock()
	w.lastErr, w.lastErrAt = err.Error(), time.Now()
	w.failures, w.failing = n, n >= attempts
	h := p.heal
	h.taken = true
	for s := range w.subs {
		// A job need not wait for it to use the others; and one that waits
		// for its first data learns when it has failed for good.
		s.settle(w, n == attempts && !w.has)
	}
	watched := len(p.watchers)
	p.mu.Unlock()
	if errors.Is(err, ErrConnectionLimit) && p.limitHinted.CompareAndSwap(false, true) {
		log.Error("Consul limits the connections from this host, and drcon holds one per distinct dependency "+
			"while it waits for changes: raise limits { http_max_conns_per_client } of the Consul agent it talks to "+
			"above the number of dependencies with headroom (Consul's default is 200), or share queries with dedup {}",
			"dependencies", watched)
	}
	switch {
	case n == attempts:
		log.Error("dependency failing; keeping its last data and retrying", "failures", n, "every", p.o.Retry.MaxBackoff, "error", err)
	case n == 1:
		log.Warn("query failed; retrying", "error", err)
	default:
		log.Debug("query failed; retrying", "failures", n, "error", err)
	}
	return h
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
