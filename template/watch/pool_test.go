package watch_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

func TestOneQueryPerDependencyAcrossSubscribers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		deps := []dep.Dependency{kv("a"), kv("b"), kv("c")}
		for i, d := range deps {
			f.set(d, uint64(10+i), dep.KVValue{Exists: true, Value: d.Name})
		}
		p := runPool(t, f, watch.Options{})
		var subs []*watch.Subscription
		for range 10 {
			s := p.Subscribe()
			s.Want(deps)
			subs = append(subs, s)
		}
		settle()
		want := map[dep.Dependency]int{kv("a"): 1, kv("b"): 1, kv("c"): 1}
		if got := f.inFlight(); !mapsEqual(got, want) {
			t.Fatalf("in flight %v, want one blocking query per dependency %v", got, want)
		}
		for i, d := range deps {
			// One query for the data, then one blocking query waiting on its index.
			cs := f.callsTo(d)
			if len(cs) != 2 || cs[0].q.WaitIndex != 0 || cs[1].q.WaitIndex != uint64(10+i) {
				t.Fatalf("queries for %s: %+v", d, cs)
			}
		}
		for i, s := range subs {
			if !signalled(s) {
				t.Fatalf("subscriber %d was not signalled", i)
			}
			v, ok := s.Recall(kv("b"))
			if !ok || v != (dep.KVValue{Exists: true, Value: "b"}) {
				t.Fatalf("subscriber %d recalls %v %v", i, v, ok)
			}
		}
		if st := p.Stats(); st.Dependencies != 3 || st.Subscriptions != 10 || st.Queries != 6 || st.Changes != 3 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestSignalsOnlySubscribersOfTheChangedDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 5, dep.KVValue{Exists: true, Value: "1"})
		f.set(kv("b"), 5, dep.KVValue{Exists: true, Value: "1"})
		p := runPool(t, f, watch.Options{})
		sa, sb, sab := p.Subscribe(), p.Subscribe(), p.Subscribe()
		sa.Want([]dep.Dependency{kv("a")})
		sb.Want([]dep.Dependency{kv("b")})
		sab.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()
		for _, s := range []*watch.Subscription{sa, sb, sab} {
			if !signalled(s) {
				t.Fatal("initial data not signalled")
			}
		}
		f.set(kv("b"), 6, dep.KVValue{Exists: true, Value: "2"})
		settle()
		if signalled(sa) {
			t.Fatal("a subscriber of a was signalled for a change of b")
		}
		if !signalled(sb) || !signalled(sab) {
			t.Fatal("subscribers of b were not signalled")
		}
		if _, ok := sa.Recall(kv("b")); ok {
			t.Fatal("Recall answered a dependency the subscriber does not want")
		}
	})
}

func TestIdenticalDataOrUnchangedIndexDoesNotSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		d := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
		v := func() any { return []*dep.HealthService{{Node: "n1", ID: "web-1", Tags: dep.ServiceTags{"a"}}} }
		f.set(d, 5, v())
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{d})
		settle()
		if !signalled(s) {
			t.Fatal("initial data not signalled")
		}
		// A new index with deeply equal data (new pointers): a query, no signal.
		f.set(d, 9, v())
		settle()
		if signalled(s) {
			t.Fatal("identical data was signalled")
		}
		// A blocking query that times out returns the same index: no signal.
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if signalled(s) {
			t.Fatal("a timed-out blocking query was signalled")
		}
		cs := f.callsTo(d)
		if len(cs) < 4 || cs[len(cs)-1].q.WaitIndex != 9 {
			t.Fatalf("queries %+v: want the last one waiting on index 9", cs)
		}
		if st := p.Stats(); st.Changes != 1 {
			t.Fatalf("changes = %d, want 1", st.Changes)
		}
	})
}

// A deleted key keeps its last value for key (kv.block), as in
// consul-template, and only for it: keyExists (kv.get) sees it go.
func TestDeletedKeyKeepsItsValueForKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		block := dep.Dependency{Kind: dep.KindKVBlock, Name: "k"}
		get := kv("k")
		f.set(block, 3, dep.KVValue{Exists: true, Value: "one"})
		f.set(get, 3, dep.KVValue{Exists: true, Value: "one"})
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{block, get})
		settle()
		signalled(s)
		f.set(block, 4, dep.KVValue{})
		f.set(get, 4, dep.KVValue{})
		settle()
		if v, _ := s.Recall(block); v != (dep.KVValue{Exists: true, Value: "one"}) {
			t.Fatalf("key's data after the delete = %#v, want the last value", v)
		}
		if v, _ := s.Recall(get); v != (dep.KVValue{}) {
			t.Fatalf("keyExists' data after the delete = %#v, want the key gone", v)
		}
		f.set(block, 5, dep.KVValue{Exists: true, Value: "two"})
		settle()
		if v, _ := s.Recall(block); v != (dep.KVValue{Exists: true, Value: "two"}) {
			t.Fatalf("key's data after the key came back = %#v", v)
		}
	})
}

// A deleted key's kept value survives being handed from one subscriber to
// another in reaction to one change, as in consul-template, which forgets
// a dependency only once a run of all its templates left it unused. The
// watcher is stopped when the subscribers signalled before its release have
// executed (called Want) without it.
func TestKeptValueHandedOverWithinOneChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		x := dep.Dependency{Kind: dep.KindKVBlock, Name: "x"}
		sel := kv("sel")
		f.set(x, 3, dep.KVValue{Exists: true, Value: "one"})
		f.set(sel, 3, dep.KVValue{Exists: true, Value: "1"})
		p := runPool(t, f, watch.Options{})
		s1, s2 := p.Subscribe(), p.Subscribe()
		s1.Want([]dep.Dependency{sel, x})
		s2.Want([]dep.Dependency{sel})
		settle()
		f.set(x, 4, dep.KVValue{})
		settle()
		// Both execute with their first data, then a change wakes both:
		// s1 executes first and drops x, then s2 takes it up.
		signalled(s1)
		s1.Want([]dep.Dependency{sel, x})
		signalled(s2)
		s2.Want([]dep.Dependency{sel})
		f.set(sel, 5, dep.KVValue{Exists: true, Value: "2"})
		settle()
		signalled(s1)
		s1.Want([]dep.Dependency{sel})
		signalled(s2)
		s2.Want([]dep.Dependency{sel, x})
		if v, _ := s2.Recall(x); v != (dep.KVValue{Exists: true, Value: "one"}) {
			t.Fatalf("x handed over within one change: %#v, want the kept value", v)
		}
		// Dropped again while s1 has yet to execute with a change: kept
		// until it has.
		f.set(sel, 6, dep.KVValue{Exists: true, Value: "1"})
		settle()
		signalled(s2)
		s2.Want([]dep.Dependency{sel})
		synctest.Wait()
		if got := f.inFlight(); got[x] != 1 {
			t.Fatalf("in flight %v: x stopped before s1 executed", got)
		}
		signalled(s1)
		s1.Want([]dep.Dependency{sel})
		synctest.Wait()
		if got := f.inFlight(); got[x] != 0 {
			t.Fatalf("in flight %v: x still watched after every subscriber executed without it", got)
		}
		// Taken up afresh, it waits for the key again.
		signalled(s1)
		s1.Want([]dep.Dependency{sel, x})
		settle()
		if v, ok := s1.Recall(x); ok {
			t.Fatalf("x watched afresh: %#v, want no data (the key is absent)", v)
		}
	})
}

// The Want that ends an execution begun before a signal does not count as
// executing with it: the job executes again (the signal waits in Changed),
// so a deleted key's kept value that another subscriber drops in reaction
// to that signal still waits for it, and is handed over.
func TestKeptValueWaitsForAnExecutionBegunBeforeTheSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		x := dep.Dependency{Kind: dep.KindKVBlock, Name: "x"}
		sel := kv("sel")
		f.set(x, 3, dep.KVValue{Exists: true, Value: "one"})
		f.set(sel, 3, dep.KVValue{Exists: true, Value: "1"})
		p := runPool(t, f, watch.Options{})
		s1, s2 := p.Subscribe(), p.Subscribe()
		s1.Want([]dep.Dependency{sel, x})
		s2.Want([]dep.Dependency{sel})
		settle()
		f.set(x, 4, dep.KVValue{})
		settle()
		signalled(s1)
		execute(s1, sel, x)
		// s2 begins an execution with the first data; sel changes before
		// it ends.
		signalled(s2)
		s2.Hold()()
		f.set(sel, 5, dep.KVValue{Exists: true, Value: "2"})
		settle()
		s2.Want([]dep.Dependency{sel})
		// s1 executes with the change and drops x: s2 has yet to.
		signalled(s1)
		execute(s1, sel)
		synctest.Wait()
		if got := f.inFlight(); got[x] != 1 {
			t.Fatalf("in flight %v: x stopped before s2 executed with the change", got)
		}
		if !signalled(s2) {
			t.Fatal("s2 was not signalled for the change")
		}
		execute(s2, sel, x)
		if v, _ := s2.Recall(x); v != (dep.KVValue{Exists: true, Value: "one"}) {
			t.Fatalf("x handed over within one change: %#v, want the kept value", v)
		}
	})
}

// A retiring watcher waits only for the executions that begin after the
// signals sent before its release, or for their subscriptions to close: a
// subscriber signalled again while it executes does not keep it for ever.
func TestRetiringWatcherStops(t *testing.T) {
	for _, end := range []string{"executes", "closes"} {
		t.Run(end, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				x := dep.Dependency{Kind: dep.KindKVBlock, Name: "x"}
				sel := kv("sel")
				f.set(x, 3, dep.KVValue{Exists: true, Value: "one"})
				f.set(sel, 3, dep.KVValue{Exists: true, Value: "1"})
				p := runPool(t, f, watch.Options{})
				s1, s2 := p.Subscribe(), p.Subscribe()
				s1.Want([]dep.Dependency{sel, x})
				s2.Want([]dep.Dependency{sel})
				settle()
				f.set(x, 4, dep.KVValue{})
				settle()
				signalled(s1)
				execute(s1, sel, x)
				signalled(s2)
				execute(s2, sel)
				f.set(sel, 5, dep.KVValue{Exists: true, Value: "2"})
				settle()
				signalled(s1)
				execute(s1, sel)
				synctest.Wait()
				if got := f.inFlight(); got[x] != 1 {
					t.Fatalf("in flight %v: x stopped before s2 executed with the change", got)
				}
				switch end {
				case "executes":
					// s2 executes with the change, and is signalled again
					// before it ends.
					signalled(s2)
					s2.Hold()()
					f.set(sel, 6, dep.KVValue{Exists: true, Value: "3"})
					settle()
					s2.Want([]dep.Dependency{sel})
				case "closes":
					s2.Close()
				}
				synctest.Wait()
				if got := f.inFlight(); got[x] != 0 {
					t.Fatalf("in flight %v: x still watched after s2 %s", got, end)
				}
			})
		})
	}
}

// A missing key gives key (kv.block) no data and wakes no one, as
// consul-template drops a blocking query's empty answer; keyExists (kv.get)
// gets its answer. The key's arrival then signals.
func TestMissingKeyGivesKeyNoData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		block := dep.Dependency{Kind: dep.KindKVBlock, Name: "k"}
		f.set(block, 3, dep.KVValue{})
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{block})
		settle()
		if signalled(s) {
			t.Fatal("a missing key signalled key's subscriber")
		}
		if v, ok := s.Recall(block); ok {
			t.Fatalf("key's data for a missing key = %#v, want none", v)
		}
		f.set(block, 4, dep.KVValue{Exists: true, Value: "v"})
		settle()
		if !signalled(s) {
			t.Fatal("the key's arrival was not signalled")
		}
		if v, _ := s.Recall(block); v != (dep.KVValue{Exists: true, Value: "v"}) {
			t.Fatalf("key's data = %#v", v)
		}
	})
}

func TestWantOfWatchedDependencyAnswersAtOnceWithoutQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 3, dep.KVValue{Exists: true, Value: "x"})
		f.set(kv("b"), 3, dep.KVValue{Exists: true, Value: "y"})
		p := runPool(t, f, watch.Options{})
		s1 := p.Subscribe()
		s1.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()
		before := p.Stats().Queries

		s2 := p.Subscribe()
		s2.Want([]dep.Dependency{kv("a")})
		if v, ok := s2.Recall(kv("a")); !ok || v != (dep.KVValue{Exists: true, Value: "x"}) {
			t.Fatalf("Recall right after Want: %v %v", v, ok)
		}
		if !signalled(s2) {
			t.Fatal("Want of data already in the pool did not signal")
		}
		// A second pass that discovers b as well signals once more, for b.
		s2.Want([]dep.Dependency{kv("a"), kv("b"), kv("a")})
		if !signalled(s2) || signalled(s2) {
			t.Fatal("want exactly one signal for the newly wanted b")
		}
		// Wanting the same set again is free and silent.
		s2.Want([]dep.Dependency{kv("b"), kv("a")})
		if signalled(s2) {
			t.Fatal("re-wanting the same set signalled")
		}
		synctest.Wait()
		if after := p.Stats().Queries; after != before {
			t.Fatalf("queries went from %d to %d; shared data must cost nothing", before, after)
		}
	})
}

func TestLastSubscriberStopsTheQuery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 3, dep.KVValue{})
		f.set(kv("b"), 3, dep.KVValue{})
		p := runPool(t, f, watch.Options{})
		s1, s2 := p.Subscribe(), p.Subscribe()
		s1.Want([]dep.Dependency{kv("a"), kv("b")})
		s2.Want([]dep.Dependency{kv("a")})
		settle()

		s1.Want([]dep.Dependency{kv("a")}) // lets go of b, its only subscriber
		synctest.Wait()
		if got := f.inFlight(); !mapsEqual(got, map[dep.Dependency]int{kv("a"): 1}) {
			t.Fatalf("in flight after letting go of b: %v", got)
		}
		s1.Close()
		synctest.Wait()
		if got := f.inFlight(); !mapsEqual(got, map[dep.Dependency]int{kv("a"): 1}) {
			t.Fatalf("in flight after closing one of two subscribers of a: %v", got)
		}
		s2.Close()
		s2.Close()
		synctest.Wait()
		if got := f.inFlight(); len(got) != 0 {
			t.Fatalf("in flight after the last subscriber closed: %v", got)
		}
		if st := p.Stats(); st.Dependencies != 0 || st.Subscriptions != 0 {
			t.Fatalf("stats %+v", st)
		}
		s2.Want([]dep.Dependency{kv("a")}) // after Close: ignored
		synctest.Wait()
		if st := p.Stats(); st.Dependencies != 0 {
			t.Fatalf("Want after Close started a watch: %+v", st)
		}
	})
}

func TestRewatchAfterReleaseQueriesAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 3, dep.KVValue{Exists: true, Value: "1"})
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		s.Want(nil)
		if _, ok := s.Recall(kv("a")); ok {
			t.Fatal("Recall answered a released dependency")
		}
		synctest.Wait()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		if v, ok := s.Recall(kv("a")); !ok || v != (dep.KVValue{Exists: true, Value: "1"}) {
			t.Fatalf("Recall after re-want: %v %v", v, ok)
		}
		if cs := f.callsTo(kv("a")); len(cs) != 4 || cs[2].q.WaitIndex != 0 {
			t.Fatalf("queries %+v: a re-watched dependency starts afresh", cs)
		}
	})
}

func TestWantBeforeRunStartsWithRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 3, dep.KVValue{Exists: true, Value: "1"})
		p := watch.New(f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		if len(f.callsTo(kv("a"))) != 0 {
			t.Fatal("queried before Run")
		}
		startPool(t, p)
		settle()
		if !signalled(s) {
			t.Fatal("no data after Run started")
		}
		if err := p.Run(t.Context()); err == nil {
			t.Fatal("a second Run must fail")
		}
	})
}

func TestRunEndsEveryPoller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 3, dep.KVValue{})
		f.hang = true
		p := watch.New(f, watch.Options{})
		p.Subscribe().Want([]dep.Dependency{kv("a"), kv("b")})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		settle()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		// synctest.Test fails if any poller outlived Run.
		if got := f.inFlight(); len(got) != 0 {
			t.Fatalf("queries still open after Run returned: %v", got)
		}
	})
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestConcurrentSubscribersWhileDataChanges exercises the locking (run it
// with -race): subscribers want, re-want, recall and close while answers
// arrive; at the end every watch and query is gone.
func TestConcurrentSubscribersWhileDataChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		deps := []dep.Dependency{kv("a"), kv("b"), kv("c"), kv("d")}
		p := runPool(t, f, watch.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		writer := make(chan struct{})
		go func() {
			defer close(writer)
			for i := uint64(1); ctx.Err() == nil; i++ {
				f.set(deps[i%4], i, dep.KVValue{Exists: true, Value: fmt.Sprint(i)})
				time.Sleep(7 * time.Millisecond)
			}
		}()
		done := make(chan struct{})
		var recalled atomic.Int64
		for g := range 8 {
			go func() {
				defer func() { done <- struct{}{} }()
				s := p.Subscribe()
				defer s.Close()
				for i := range 50 {
					want := deps[(g+i)%4 : 4]
					s.Want(want)
					for _, d := range want {
						if _, ok := s.Recall(d); ok {
							recalled.Add(1)
						}
					}
					select {
					case <-s.Changed():
					case <-time.After(50 * time.Millisecond):
					}
				}
			}()
		}
		for range 8 {
			<-done
		}
		cancel()
		<-writer
		synctest.Wait()
		if recalled.Load() == 0 {
			t.Fatal("no subscriber ever had data")
		}
		if st := p.Stats(); st.Dependencies != 0 || st.Subscriptions != 0 {
			t.Fatalf("stats after every subscriber closed: %+v", st)
		}
		if got := f.inFlight(); len(got) != 0 {
			t.Fatalf("queries left open: %v", got)
		}
	})
}
