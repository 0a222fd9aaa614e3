package watch

import (
	"context"
	"math/rand/v2"
	"time"
)

// heal is one generation of the pool's wake-up call to the dependencies
// sleeping in a failure backoff: closed when another dependency recovers,
// that is when Consul answers again after failed queries, and replaced.
// Without it, an outage long enough to grow the backoffs to max_backoff
// leaves the data stale for up to that long after Consul is back.
type heal struct {
	done   chan struct{}
	taken  bool          // a failed poller waits on done; guarded by Pool.mu
	spread time.Duration // set before done is closed
}

func newHeal() *heal { return &heal{done: make(chan struct{})} }

// healed wakes the pollers sleeping in a failure backoff, if any, after w
// recovered. Only a recovery wakes them, not any answer: a dependency that
// fails on its own (a datacenter out of reach, a token refused) would
// otherwise be asked again at every answer of the others. The woken ask
// again spread over one base backoff per FirstQueries of the dependencies
// failing, a few dozen queries a second whatever their number, so that
// hundreds of them, on every host of a fleet that Consul came back to at
// once, do not all ask in the same instant. Called with p.mu held.
func (p *Pool) healed(w *watcher) {
	if !p.heal.taken {
		return
	}
	n := 0
	for _, o := range p.watchers {
		if o != w && o.failures > 0 {
			n++
		}
	}
	if n == 0 {
		return
	}
	h := p.heal
	h.spread = p.o.Retry.Backoff * time.Duration((n+p.o.FirstQueries-1)/p.o.FirstQueries)
	close(h.done)
	p.heal = newHeal()
}

// backoff waits d after a failed query, and reports false if ctx ended
// first. When h is closed before d ends, it waits instead a random part of
// h's spread, never beyond d, and reports that it was woken. A failure
// after that goes on with the next longer backoff, in full (see poll): only
// an answer resets it, so that a dependency that keeps recovering and
// failing does not have one that always fails asked at each recovery.
func backoff(ctx context.Context, d time.Duration, h *heal) (ok, woken bool) {
	start := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false, false
	case <-t.C:
		return true, false
	case <-h.done:
	}
	return sleep(ctx, min(rand.N(h.spread+1), d-time.Since(start))), true
}
