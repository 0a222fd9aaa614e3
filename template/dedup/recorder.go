package dedup

import (
	"bytes"
	"sync"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// recorder keeps the latest direct answer to each shareable dependency, as
// JSON, for the leader to publish. Every agent records, so that a follower
// that becomes leader publishes what it already knows. Fetch writes; the
// leader's publisher reads. Its methods are safe for concurrent use.
type recorder struct {
	maxStale time.Duration
	changed  chan struct{} // buffer 1, never closed: an answer changed

	mu      sync.Mutex
	answers map[dep.Dependency]*recorded
}

// recorded is the latest answer to one dependency.
type recorded struct {
	key string // canonical string
	// raw is the answer's JSON; nil when it cannot be shared (err says why).
	raw []byte
	err string
	// index is the Consul index at which the answer last changed: answers
	// that only move the index are not news to followers.
	index uint64
}

func newRecorder(maxStale time.Duration) *recorder {
	return &recorder{maxStale: maxStale, changed: make(chan struct{}, 1), answers: map[dep.Dependency]*recorded{}}
}

// note records a direct answer to d, fetched with q, and returns its JSON
// (nil when it cannot be shared). Answers the pool drops as too stale are
// not recorded.
func (r *recorder) note(d dep.Dependency, v any, m watch.ResponseMeta, q watch.QueryOptions) []byte {
	if q.AllowStale && m.LastContact > r.maxStale {
		return nil
	}
	raw, err := dep.EncodeValue(d.Kind, v)
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.answer(d)
	switch {
	case err != nil:
		if a.err == err.Error() {
			return nil
		}
		a.raw, a.err = nil, err.Error()
	case a.raw != nil && bytes.Equal(a.raw, raw):
		return raw
	default:
		a.raw, a.err = raw, ""
	}
	a.index = m.LastIndex
	r.poke()
	return raw
}

// errQuery is why an answer whose latest query failed is not shared: the
// leader keeps its last answer, which may be out of date by now, while the
// followers' own queries may well succeed (a datacenter only the leader
// cannot reach).
const errQuery = "the latest query failed"

// fail records that the latest query of d failed, until an answer comes.
func (r *recorder) fail(d dep.Dependency) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.answer(d)
	if a.raw == nil && a.err == errQuery {
		return
	}
	a.raw, a.err = nil, errQuery
	r.poke()
}

// answer is d's record, made if new; r.mu is held.
func (r *recorder) answer(d dep.Dependency) *recorded {
	a := r.answers[d]
	if a == nil {
		a = &recorded{key: d.String()}
		r.answers[d] = a
	}
	return a
}

// keep forgets the answers of dependencies for which keep is false.
func (r *recorder) keep(keep func(key string) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for d, a := range r.answers {
		if !keep(a.key) {
			delete(r.answers, d)
		}
	}
}

// copy returns the recorded answers.
func (r *recorder) copy() map[dep.Dependency]recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[dep.Dependency]recorded, len(r.answers))
	for d, a := range r.answers {
		out[d] = *a
	}
	return out
}

// poke wakes the leader's publisher: an answer or the set changed. One
// pending signal covers any number of changes.
func (r *recorder) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}
