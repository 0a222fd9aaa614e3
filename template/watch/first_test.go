package watch_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// gated holds back the answers of some dependencies, or fails them, in front
// of a fake Consul.
type gated struct {
	*fakeConsul
	mu      sync.Mutex
	gates   map[dep.Dependency]chan struct{}
	broken  map[dep.Dependency]bool
	waiting int // queries held at a gate now
}

func newGated(f *fakeConsul) *gated {
	return &gated{fakeConsul: f, gates: map[dep.Dependency]chan struct{}{}, broken: map[dep.Dependency]bool{}}
}

func (g *gated) hold(d dep.Dependency) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gates[d] = make(chan struct{})
}

func (g *gated) release(d dep.Dependency) {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.gates[d])
	delete(g.gates, d)
}

func (g *gated) breakDep(d dep.Dependency) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.broken[d] = true
}

// mend makes d's queries reach the fake Consul again.
func (g *gated) mend(d dep.Dependency) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.broken, d)
}

func (g *gated) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	g.mu.Lock()
	gate, broken := g.gates[d], g.broken[d]
	g.mu.Unlock()
	if broken {
		g.fakeConsul.mu.Lock()
		defer g.fakeConsul.mu.Unlock()
		g.calls = append(g.calls, call{d, q, time.Now()}) // for callsTo
		return nil, watch.ResponseMeta{}, errDown
	}
	if gate != nil {
		g.mu.Lock()
		g.waiting++
		g.mu.Unlock()
		defer func() {
			g.mu.Lock()
			g.waiting--
			g.mu.Unlock()
		}()
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, watch.ResponseMeta{}, ctx.Err()
		}
	}
	return g.fakeConsul.Fetch(ctx, d, q)
}

func TestFirstAnswersOfOneWantAreSignalledTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		deps := []dep.Dependency{kv("a"), kv("b"), kv("c")}
		for _, d := range deps {
			f.set(d, 5, dep.KVValue{Exists: true, Value: d.Name})
		}
		g := newGated(f)
		g.hold(kv("b"))
		p := runPool(t, g, watch.Options{})
		s := p.Subscribe()
		s.Want(deps)
		settle()
		if signalled(s) {
			t.Fatal("signalled while the first answer of b is outstanding")
		}
		if _, ok := s.Recall(kv("a")); !ok {
			t.Fatal("a's answer is not readable")
		}
		g.release(kv("b"))
		settle()
		if !signalled(s) {
			t.Fatal("not signalled once every first answer arrived")
		}
		if signalled(s) {
			t.Fatal("signalled twice")
		}
		if _, ok := s.Recall(kv("b")); !ok {
			t.Fatal("b's answer is not readable")
		}
	})
}

func TestAFailedFirstQueryDoesNotHoldBackTheOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 5, dep.KVValue{Exists: true, Value: "a"})
		g := newGated(f)
		g.breakDep(kv("b"))
		p := runPool(t, g, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()
		if !signalled(s) {
			t.Fatal("a's answer was held back by b, which fails")
		}
		if _, ok := s.Recall(kv("b")); ok {
			t.Fatal("b has an answer")
		}
	})
}

func TestSharedDataWaitsForTheNewDependenciesOfTheSameWant(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 5, dep.KVValue{Exists: true, Value: "a"})
		f.set(kv("b"), 5, dep.KVValue{Exists: true, Value: "b"})
		g := newGated(f)
		p := runPool(t, g, watch.Options{})
		s1 := p.Subscribe()
		s1.Want([]dep.Dependency{kv("a")})
		settle()
		if !signalled(s1) {
			t.Fatal("a not signalled")
		}
		g.hold(kv("b"))
		s2 := p.Subscribe()
		s2.Want([]dep.Dependency{kv("a"), kv("b")})
		synctest.Wait()
		if signalled(s2) {
			t.Fatal("a's shared data was signalled before b's first answer")
		}
		g.release(kv("b"))
		settle()
		if !signalled(s2) {
			t.Fatal("not signalled once b answered")
		}
		// Wanting only data that is there signals at once.
		s3 := p.Subscribe()
		s3.Want([]dep.Dependency{kv("a"), kv("b")})
		if !signalled(s3) {
			t.Fatal("data already there was not signalled at once")
		}
	})
}

func TestChangesOfWatchedDataAreNotHeldBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 5, dep.KVValue{Exists: true, Value: "1"})
		f.set(kv("b"), 5, dep.KVValue{Exists: true, Value: "b"})
		g := newGated(f)
		p := runPool(t, g, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		signalled(s)
		g.hold(kv("b"))
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		f.set(kv("a"), 6, dep.KVValue{Exists: true, Value: "2"})
		settle()
		if !signalled(s) {
			t.Fatal("a change of a, watched before, waited for b's first answer")
		}
		g.release(kv("b"))
		settle()
		if !signalled(s) {
			t.Fatal("b's first answer was not signalled")
		}
	})
}

func TestQueriesThatDoNotBlockAreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		g := newGated(f)
		var deps []dep.Dependency
		for i := range 10 {
			d := kv(string(rune('a' + i)))
			f.set(d, 5, dep.KVValue{Exists: true, Value: d.Name})
			g.hold(d)
			deps = append(deps, d)
		}
		p := runPool(t, g, watch.Options{FirstQueries: 4})
		s := p.Subscribe()
		s.Want(deps)
		synctest.Wait()
		g.mu.Lock()
		held := g.waiting
		g.mu.Unlock()
		if held != 4 {
			t.Fatalf("%d first queries in flight, want 4", held)
		}
		for _, d := range deps {
			g.release(d)
		}
		settle()
		if !signalled(s) {
			t.Fatal("not signalled once every first answer arrived")
		}
		// Blocking queries hold their connection and are not bounded.
		if open := f.inFlight(); len(open) != 10 {
			t.Fatalf("%d blocking queries open, want 10: %v", len(open), open)
		}
	})
}

// With FirstDataOnly (a -once run), a dependency is asked until its first
// answer with data and never again: no blocking query waits for a change
// the run will not use. A key that does not exist yet goes on being asked
// until it does.
func TestFirstDataOnlyStopsAtTheFirstData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		present := dep.Dependency{Kind: dep.KindKVBlock, Name: "present"}
		later := dep.Dependency{Kind: dep.KindKVBlock, Name: "later"}
		f.set(present, 3, dep.KVValue{Exists: true, Value: "x"})
		f.set(later, 3, dep.KVValue{})
		p := runPool(t, f, watch.Options{FirstDataOnly: true})
		s := p.Subscribe()
		s.Want([]dep.Dependency{present, later})
		settle()
		if !signalled(s) {
			t.Fatal("the first answers were not signalled")
		}
		f.set(later, 4, dep.KVValue{Exists: true, Value: "y"})
		settle()
		if !signalled(s) {
			t.Fatal("the missing key's arrival was not signalled")
		}
		f.set(present, 5, dep.KVValue{Exists: true, Value: "changed"})
		time.Sleep(time.Hour)
		if n := len(f.callsTo(present)); n != 1 {
			t.Fatalf("%d queries of a dependency answered with data at once, want 1", n)
		}
		if calls := f.callsTo(later); len(calls) != 2 || calls[1].q.WaitIndex != 3 {
			t.Fatalf("queries of the missing key: %+v, want the first and one blocking on index 3", calls)
		}
		if open := f.inFlight(); len(open) != 0 {
			t.Fatalf("queries still open: %v", open)
		}
		if v, _ := s.Recall(present); v != (dep.KVValue{Exists: true, Value: "x"}) {
			t.Fatalf("data = %#v, want the first answer's", v)
		}
	})
}
