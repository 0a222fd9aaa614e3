package watch

import (
	"fmt"
	"strings"

	"github.com/drcon/drcon/template/dep"
)

// Subscription is one subscriber's view of the pool: the dependencies it
// wants, their latest answers, and a signal when one of them changes. It
// implements the Source that template jobs consume. Its methods are safe for
// concurrent use.
type Subscription struct {
	p       *Pool
	changed chan struct{} // buffer 1; sent to without blocking, never closed

	// Guarded by p.mu.
	want map[dep.Dependency]*watcher
	// first holds the newly wanted dependencies whose first query has not
	// finished. Their first answers are signalled together, when the last
	// of them arrives or fails: a job that discovers a hundred services in
	// one pass then executes once with all of them, not once per answer,
	// which would be quadratic in the data.
	first  map[*watcher]struct{}
	owed   bool // new data is waiting for first to empty
	closed bool
	// failLookups: a key that Consul says does not exist is a failure
	// (err_on_failed_lookup), not a wait.
	failLookups bool
	// signals counts the signals sent; began is its value when the latest
	// execution began (Hold; begun until its Want), done when the latest
	// one to end (Want) began. An execution begun before a signal may have
	// read the data from before it: s has executed with the data of the
	// n-th signal once done >= n (see Pool.release).
	signals, began, done uint64
	begun                bool
}

// Want replaces the set of dependencies s wants. Newly wanted dependencies
// that are already watched for another subscriber answer Recall at once,
// without a new query; the others start a poller. Changed is signalled once
// for the new dependencies of a Want, when the last of them without data
// has its first answer (or its first query failed), or at once if they all
// had data. Dependencies no longer wanted are released, stopping their
// poller if s was their last subscriber. Want after Close does nothing.
// A job calls Want after each execution, with the same set if it did not
// change: that tells the pool that it executed with the data signalled
// before the execution's Hold, or before the Want if it took none since the
// last Want (see Pool.release).
func (s *Subscription) Want(ds []dep.Dependency) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.closed {
		return
	}
	if !s.begun {
		s.began = s.signals
	}
	s.done, s.begun = s.began, false
	next := make(map[dep.Dependency]*watcher, len(ds))
	for _, d := range ds {
		if _, dup := next[d]; dup {
			continue
		}
		if w, ok := s.want[d]; ok {
			next[d] = w
			continue
		}
		w := p.acquire(d, s)
		next[d] = w
		switch {
		case w.has, w.absent && s.failLookups:
			s.owed = true
		case w.lastErr == "":
			s.first[w] = struct{}{}
		}
	}
	for d, w := range s.want {
		if _, keep := next[d]; !keep {
			p.release(w, s)
			delete(s.first, w)
		}
	}
	s.want = next
	p.executed(s)
	s.flush()
}

// settle tells s that a query of w finished, with new data when changed.
// Called with p.mu held.
func (s *Subscription) settle(w *watcher, changed bool) {
	if _, ok := s.first[w]; ok {
		delete(s.first, w)
		s.owed = s.owed || changed
		s.flush()
		return
	}
	if changed {
		s.signal()
	}
}

// flush signals the data owed once no first answer is outstanding. Called
// with p.mu held.
func (s *Subscription) flush() {
	if s.owed && len(s.first) == 0 {
		s.owed = false
		s.signal()
	}
}

// Changed is signalled when the data of a wanted dependency changed since the
// signal was last received. Signals coalesce: one receive may stand for many
// changes, so a receiver re-reads everything it uses.
func (s *Subscription) Changed() <-chan struct{} { return s.changed }

// Recall returns the latest answer to d, and false while d has none or s
// does not want d. The answer is shared: read it under Hold.
func (s *Subscription) Recall(d dep.Dependency) (any, bool) {
	s.p.mu.RLock()
	defer s.p.mu.RUnlock()
	w, ok := s.want[d]
	if !ok || !w.has {
		return nil, false
	}
	return w.value, true
}

// Hold keeps the pool's answers to the caller, one execution of a template
// at a time, until release is called. The answers are shared by every
// subscriber, and template functions can write into them. A job takes it
// at the start of each execution: the data signalled before is what the
// execution reads (see Want).
func (s *Subscription) Hold() (release func()) {
	s.p.held.Lock()
	s.p.mu.Lock()
	s.began, s.begun = s.signals, true
	s.p.mu.Unlock()
	return s.p.held.Unlock
}

// FailLookups makes s fail the keys that Consul says do not exist (see
// Failure), as err_on_failed_lookup asks. Call it before the first Want.
func (s *Subscription) FailLookups() {
	s.p.mu.Lock()
	s.failLookups = true
	s.p.mu.Unlock()
}

// Failure reports why d has no data when its queries have failed Retry.Attempts
// times in a row, or, under FailLookups, when Consul answered that its key
// does not exist (wrapping dep.ErrFailedLookup); nil while d has data, or
// may still get some. The pool keeps watching either way: a -once render
// gives up on d, a daemon job fails on a failed lookup and waits out the
// rest.
func (s *Subscription) Failure(d dep.Dependency) error {
	s.p.mu.RLock()
	defer s.p.mu.RUnlock()
	w, ok := s.want[d]
	if !ok || w.has {
		return nil
	}
	if w.absent && s.failLookups {
		return dep.ErrFailedLookup
	}
	if !w.failing {
		return nil
	}
	// The caller names d; the fetcher's errors name it too.
	last := strings.TrimPrefix(w.lastErr, "fetch "+d.String()+": ")
	return fmt.Errorf("%d queries failed in a row, the last: %s", w.failures, last)
}

// Close releases every dependency of s. It is idempotent.
func (s *Subscription) Close() {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if s.closed {
		return
	}
	delete(p.subs, s)
	s.closed = true
	for _, w := range s.want {
		p.release(w, s)
	}
	p.executed(s)
	s.want, s.first = nil, nil
}

// signal marks that data changed, without ever blocking the sender.
// Called with p.mu held.
func (s *Subscription) signal() {
	s.signals++
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// Wanted lists the dependencies s wants now, sorted. The agent uses it to
// have a replacement job's subscription want the same before the old one
// closes, so that a reload keeps their watchers (no new query).
func (s *Subscription) Wanted() []dep.Dependency {
	s.p.mu.RLock()
	out := make([]dep.Dependency, 0, len(s.want))
	for d := range s.want {
		out = append(out, d)
	}
	s.p.mu.RUnlock()
	return dep.Sort(out)
}
