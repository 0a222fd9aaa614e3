package watch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// fakeConsul answers like Consul's blocking queries, on synctest's clock: a
// query waiting on an index returns when the dependency's index passes it or
// its wait runs out, with whatever the dependency holds then.
type fakeConsul struct {
	mu      sync.Mutex
	wake    chan struct{} // closed and replaced on every change
	data    map[dep.Dependency]entry
	down    error         // when set, every query fails with it
	contact time.Duration // LastContact of stale answers
	hang    bool          // ignore wait times (a dead connection)
	calls   []call
	open    map[dep.Dependency]int
}

type entry struct {
	index uint64
	value any
}

type call struct {
	d  dep.Dependency
	q  watch.QueryOptions
	at time.Time
}

func newFake() *fakeConsul {
	return &fakeConsul{wake: make(chan struct{}), data: map[dep.Dependency]entry{}, open: map[dep.Dependency]int{}}
}

func (f *fakeConsul) change(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *fakeConsul) set(d dep.Dependency, index uint64, v any) {
	f.change(func() { f.data[d] = entry{index, v} })
}

func (f *fakeConsul) setDown(err error) { f.change(func() { f.down = err }) }

func (f *fakeConsul) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{d, q, time.Now()})
	f.open[d]++
	defer func() {
		if f.open[d]--; f.open[d] == 0 {
			delete(f.open, d)
		}
	}()
	var timeout <-chan time.Time
	if q.WaitIndex > 0 && !f.hang {
		timeout = time.After(q.WaitTime)
	}
	for {
		if f.down != nil {
			return nil, watch.ResponseMeta{}, f.down
		}
		e := f.data[d]
		if q.WaitIndex == 0 || e.index > q.WaitIndex {
			return f.answer(e, q)
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			f.mu.Lock()
			return nil, watch.ResponseMeta{}, ctx.Err()
		case <-timeout:
			f.mu.Lock()
			return f.answer(f.data[d], q)
		case <-wake:
			f.mu.Lock()
		}
	}
}

func (f *fakeConsul) answer(e entry, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	m := watch.ResponseMeta{LastIndex: e.index}
	if q.AllowStale {
		m.LastContact = f.contact
	}
	return e.value, m, nil
}

// callsTo returns the queries sent for d so far.
func (f *fakeConsul) callsTo(d dep.Dependency) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.d == d {
			out = append(out, c)
		}
	}
	return out
}

// inFlight returns the number of open queries per dependency.
func (f *fakeConsul) inFlight() map[dep.Dependency]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[dep.Dependency]int{}
	for d, n := range f.open {
		out[d] = n
	}
	return out
}

// runPool runs a pool until the test ends, and checks that Run returns.
func runPool(t *testing.T, f watch.Fetcher, o watch.Options) *watch.Pool {
	t.Helper()
	p := watch.New(f, o)
	startPool(t, p)
	return p
}

func startPool(t *testing.T, p *watch.Pool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// settle lets fake time pass beyond every gap and waits until every poller
// is blocked (in a query, or sleeping a backoff).
func settle() {
	time.Sleep(time.Second)
	synctest.Wait()
}

// signalled reports whether s has a pending change signal, consuming it.
func signalled(s *watch.Subscription) bool {
	select {
	case <-s.Changed():
		return true
	default:
		return false
	}
}

// execute stands for one execution of a job on s: it begins (Hold), reads
// the data, and ends with the dependencies it used (Want).
func execute(s *watch.Subscription, ds ...dep.Dependency) {
	s.Hold()()
	s.Want(ds)
}

func kv(name string) dep.Dependency { return dep.Dependency{Kind: dep.KindKV, Name: name} }

var errDown = errors.New("connection refused")
