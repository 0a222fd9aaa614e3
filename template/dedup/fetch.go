package dedup

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// Fetch answers d; see watch.Fetcher. A shareable dependency that the
// trusted shared data holds is answered from it without any Consul request:
// a blocking query waits until a publication carries a new index for d (or
// q.WaitTime passes). Everything else is asked of Consul through the
// wrapped fetcher, and a direct query is cancelled and answered from the
// data as soon as the data holds d.
func (m *Member) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	m.learn(d)
	if !d.Shareable() {
		return m.direct.Fetch(ctx, d, q)
	}
	var timeout <-chan time.Time
	if q.WaitIndex > 0 && q.WaitTime > 0 {
		t := time.NewTimer(q.WaitTime)
		defer t.Stop()
		timeout = t.C
	}
	for {
		dctx, cancel := context.WithCancelCause(ctx)
		e, ok, wake, dq, prev := m.srv.begin(d, cancel)
		if ok {
			cancel(nil)
			if differs := changed(prev, e.Raw); q.WaitIndex == 0 || e.Index != q.WaitIndex || differs {
				return e.Value, watch.ResponseMeta{LastIndex: distinct(q, e.Index, differs)}, nil
			}
			select {
			case <-ctx.Done():
				return nil, watch.ResponseMeta{}, ctx.Err()
			case <-timeout:
				return e.Value, watch.ResponseMeta{LastIndex: e.Index}, nil
			case <-wake:
				continue
			}
		}
		// The last answer came from the data, whose index a direct query
		// must not wait on: Consul may have restarted since.
		dq2 := q
		if prev.fromData {
			dq2.WaitIndex, dq2.WaitTime = 0, 0
		}
		v, meta, err := m.direct.Fetch(dctx, d, dq2)
		served := errors.Is(context.Cause(dctx), errServed) && ctx.Err() == nil
		cancel(nil)
		var raw []byte
		switch {
		case err == nil:
			raw = m.rec.note(d, v, meta, dq2)
		case !served && !errors.Is(ctx.Err(), context.Canceled):
			m.rec.fail(d)
		}
		m.srv.end(d, dq, err == nil, meta.LastIndex, raw)
		if served && err != nil {
			continue
		}
		if err == nil && prev.fromData {
			// An answer the data held could be encoded; one that cannot
			// differs from it.
			meta.LastIndex = distinct(q, meta.LastIndex, raw == nil || changed(prev, raw))
		}
		return v, meta, err
	}
}

// changed reports whether an answer's JSON differs from the last one given.
func changed(prev last, raw []byte) bool {
	return prev.raw != nil && raw != nil && !bytes.Equal(prev.raw, raw)
}

// distinct is the index to report for an answer whose data may come from
// another source than the last (another leader's data, or Consul itself
// after the data): such an answer can carry the very index the pool waited
// on with other data, which the pool would take for no change. It is then
// reported as an index that went backwards, which makes the pool ask again
// at once and take the answer.
func distinct(q watch.QueryOptions, index uint64, differs bool) uint64 {
	if q.WaitIndex == 0 || index != q.WaitIndex || !differs {
		return index
	}
	if q.WaitIndex > 1 {
		return q.WaitIndex - 1
	}
	return q.WaitIndex + 1
}

// learn remembers whether d, by its canonical string, is shareable: the
// loop reads the pool's set as strings.
func (m *Member) learn(d dep.Dependency) {
	k := d.String()
	m.knownMu.Lock()
	defer m.knownMu.Unlock()
	if _, ok := m.known[k]; !ok {
		m.known[k] = d
		select {
		case m.learned <- struct{}{}:
		default:
		}
	}
}

// shareable reports whether the dependency named key is shareable, and
// false for known when it has not been asked yet.
func (m *Member) shareable(key string) (shareable, known bool) {
	m.knownMu.Lock()
	defer m.knownMu.Unlock()
	d, ok := m.known[key]
	return ok && d.Shareable(), ok
}

// forget drops what is kept about dependencies no longer watched (st) or
// no longer in the shareable set.
func (m *Member) forget(st []watch.DependencyStatus, set []string) {
	watched := make(map[string]bool, len(st))
	for _, s := range st {
		watched[s.Dependency] = true
	}
	in := make(map[string]bool, len(set))
	for _, k := range set {
		in[k] = true
	}
	m.knownMu.Lock()
	for k := range m.known {
		if !watched[k] {
			delete(m.known, k)
		}
	}
	m.knownMu.Unlock()
	m.rec.keep(func(k string) bool { return in[k] })
	m.srv.keep(func(d dep.Dependency) bool { return in[d.String()] })
}
