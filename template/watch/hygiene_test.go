package watch_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

func TestOutageKeepsDataReportsFailingAndHeals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 40, dep.KVValue{Exists: true, Value: "old"})
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		signalled(s)

		f.setDown(errDown)
		synctest.Wait()
		downAt := time.Now()
		// The 12th failure comes 0.25+0.5+...+32s + 3×60s = 243.75s after the
		// first, less up to a fifth of jitter: between 195s and 244s.
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		st := p.Status()[0]
		if st.Failing || st.Failures < 9 || st.Failures >= 12 {
			t.Fatalf("after 3 minutes down: %+v", st)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		st = p.Status()[0]
		if !st.Failing || st.Failures < 12 || st.LastError != errDown.Error() || st.Age < 5*time.Minute || !st.HasData {
			t.Fatalf("after 5 minutes down: %+v", st)
		}
		if v, ok := s.Recall(kv("a")); !ok || v != (dep.KVValue{Exists: true, Value: "old"}) {
			t.Fatalf("data lost during the outage: %v %v", v, ok)
		}
		if signalled(s) {
			t.Fatal("an outage signalled a change")
		}
		if p.Stats().Failing != 1 {
			t.Fatalf("stats %+v", p.Stats())
		}

		// The backoff doubles from 250ms to the 1m cap, each less up to 20% jitter.
		// The first failure is the open query's, at downAt.
		cs := f.callsTo(kv("a"))
		var gaps []time.Duration
		prev := downAt
		for _, c := range cs {
			if c.at.After(downAt) {
				gaps = append(gaps, c.at.Sub(prev))
				prev = c.at
			}
		}
		want := watch.Retry{Backoff: 250 * time.Millisecond, MaxBackoff: time.Minute}
		d := want.Backoff
		for i, g := range gaps {
			if g > d || g < d-d/5 {
				t.Fatalf("retry %d after %s, want %s less up to a fifth (all: %v)", i+1, g, d, gaps)
			}
			d = min(2*d, want.MaxBackoff)
		}
		// Every retry asks afresh, without the old index.
		for _, c := range cs[len(cs)-len(gaps):] {
			if c.q.WaitIndex != 0 {
				t.Fatalf("a retry waited on index %d", c.q.WaitIndex)
			}
		}

		// Consul comes back empty-handed (a restarted dev agent: low index).
		f.change(func() {
			f.down = nil
			f.data[kv("a")] = entry{3, dep.KVValue{Exists: true, Value: "new"}}
		})
		time.Sleep(time.Minute)
		synctest.Wait()
		if !signalled(s) {
			t.Fatal("no signal after Consul came back with new data")
		}
		if v, _ := s.Recall(kv("a")); v != (dep.KVValue{Exists: true, Value: "new"}) {
			t.Fatalf("after recovery: %v", v)
		}
		st = p.Status()[0]
		if st.Failing || st.Failures != 0 || st.LastIndex != 3 || st.LastError == "" {
			t.Fatalf("after recovery: %+v", st)
		}
	})
}

func TestRecoveryWithIdenticalDataDoesNotSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, p, s := downAfterData(t, "same")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if !p.Status()[0].Failing {
			t.Fatalf("not failing after 2 attempts: %+v", p.Status()[0])
		}
		f.change(func() { f.down = nil; f.data[kv("a")] = entry{2, dep.KVValue{Exists: true, Value: "same"}} })
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if signalled(s) {
			t.Fatal("recovery with identical data signalled")
		}
		if st := p.Status()[0]; st.Failing || st.LastIndex != 2 {
			t.Fatalf("after recovery: %+v", st)
		}
	})
}

func TestBackwardsIndexResetsWithoutError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 500, dep.KVValue{Exists: true, Value: "a"})
		p := runPool(t, f, watch.Options{BlockQueryWait: 10 * time.Second})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		signalled(s)
		// Another server with a shorter history answers from now on: it holds
		// the query on index 500 until the wait runs out, then answers 20.
		f.set(kv("a"), 20, dep.KVValue{Exists: true, Value: "b"})
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if !signalled(s) {
			t.Fatal("no signal after the index went backwards")
		}
		if v, _ := s.Recall(kv("a")); v != (dep.KVValue{Exists: true, Value: "b"}) {
			t.Fatalf("got %v", v)
		}
		cs := f.callsTo(kv("a"))
		var idx []uint64
		for _, c := range cs {
			idx = append(idx, c.q.WaitIndex)
		}
		want := []uint64{0, 500, 0, 20}
		if !slicesEqual(idx, want) {
			t.Fatalf("wait indexes %v, want %v", idx, want)
		}
		if st := p.Status()[0]; st.Failures != 0 || st.LastError != "" || st.LastIndex != 20 {
			t.Fatalf("status %+v", st)
		}
	})
}

func TestTooStaleAnswerIsAskedOfTheLeaderAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 7, dep.KVValue{Exists: true, Value: "a"})
		f.contact = 5 * time.Second
		p := runPool(t, f, watch.Options{MaxStale: 2 * time.Second})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		cs := f.callsTo(kv("a"))
		if len(cs) != 3 {
			t.Fatalf("queries %+v", cs)
		}
		if !cs[0].q.AllowStale || cs[1].q.AllowStale || cs[1].q.WaitIndex != 0 || !cs[1].at.Equal(cs[0].at) {
			t.Fatalf("want a stale query then at once a consistent one: %+v", cs)
		}
		if !cs[2].q.AllowStale || cs[2].q.WaitIndex != 7 {
			t.Fatalf("after the consistent answer, queries are stale again: %+v", cs[2])
		}
		if !signalled(s) {
			t.Fatal("no data")
		}
	})
}

func TestMinimumGapBetweenQueries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 1, dep.KVValue{})
		p := runPool(t, f, watch.Options{MinGap: 200 * time.Millisecond})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		synctest.Wait()
		// A storm: the key changes every 10ms for 3s.
		for i := range 300 {
			f.set(kv("a"), uint64(2+i), dep.KVValue{Exists: true, Value: time.Now().String()})
			time.Sleep(10 * time.Millisecond)
		}
		cs := f.callsTo(kv("a"))
		if len(cs) > 16 {
			t.Fatalf("%d queries in 3s with a 200ms gap", len(cs))
		}
		for i := 1; i < len(cs); i++ {
			if g := cs[i].at.Sub(cs[i-1].at); g < 200*time.Millisecond || g > 240*time.Millisecond+10*time.Millisecond {
				t.Fatalf("gap %s between queries %d and %d", g, i-1, i)
			}
		}
	})
}

func TestHungQueryIsAbandonedAtTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 4, dep.KVValue{Exists: true, Value: "a"})
		f.hang = true // the connection died silently: the wait never ends
		p := runPool(t, f, watch.Options{BlockQueryWait: 16 * time.Second})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a")})
		settle()
		start := time.Now()
		time.Sleep(time.Minute)
		synctest.Wait()
		// The retry (without an index) was answered at once, so the dependency
		// is healthy again; the abandoned query left its error.
		st := p.Status()[0]
		if st.LastError != context.DeadlineExceeded.Error() || !st.HasData || st.Failing {
			t.Fatalf("status %+v", st)
		}
		// 16s wait + 1s of Consul's jitter + 30s margin.
		if at := st.LastErrorAt.Sub(start); at < 46*time.Second || at > 48*time.Second {
			t.Fatalf("abandoned after %s", at)
		}
	})
}

func TestStatusDescribesEachDependency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		d := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
		f.set(d, 9, []*dep.HealthService{})
		p := runPool(t, f, watch.Options{})
		start := time.Now()
		s1, s2 := p.Subscribe(), p.Subscribe()
		s1.Want([]dep.Dependency{d, kv("missing")})
		s2.Want([]dep.Dependency{d})
		settle()
		got := p.Status()
		if len(got) != 2 || got[0].Dependency != "health.service(web|passing)" || got[1].Dependency != "kv.get(missing)" {
			t.Fatalf("status %+v", got)
		}
		w := got[0]
		if w.Subscribers != 2 || !w.HasData || w.LastIndex != 9 || !w.WatchedSince.Equal(start) ||
			!w.LastChange.Equal(start) || w.Age != time.Second || w.Failing || w.Failures != 0 {
			t.Fatalf("status %+v", w)
		}
		// An absent KV key is an answer like any other (index 1 here).
		if m := got[1]; m.Subscribers != 1 || !m.HasData || m.LastIndex != 1 {
			t.Fatalf("status %+v", m)
		}
	})
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A dependency that never had data and fails Attempts times in a row is
// reported by Failure, with a signal, so that a -once render can give up
// on it; one with data is not (its last data stands).
func TestFailureWithoutData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, s := downAfterData(t, "a")
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		synctest.Wait()
		if err := s.Failure(kv("b")); err != nil {
			t.Fatalf("failure after one attempt: %v", err)
		}
		signalled(s)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if !signalled(s) {
			t.Error("no signal when b failed for good")
		}
		if err := s.Failure(kv("b")); err == nil || !strings.Contains(err.Error(), errDown.Error()) {
			t.Errorf("failure of b: %v", err)
		}
		if err := s.Failure(kv("a")); err != nil {
			t.Errorf("a has data, but: %v", err)
		}
	})
}

// downAfterData starts a pool that fails a dependency after two attempts,
// lets a subscription have kv("a") = value, and takes Consul down.
func downAfterData(t *testing.T, value string) (*fakeConsul, *watch.Pool, *watch.Subscription) {
	f := newFake()
	f.set(kv("a"), 40, dep.KVValue{Exists: true, Value: value})
	p := runPool(t, f, watch.Options{Retry: watch.Retry{Attempts: 2, Backoff: time.Second, MaxBackoff: 4 * time.Second}})
	s := p.Subscribe()
	s.Want([]dep.Dependency{kv("a")})
	settle()
	signalled(s)
	f.setDown(errDown)
	return f, p, s
}

// Consul's refusal of a connection beyond its per-client limit is explained
// once, with what to change, however many dependencies it hits.
func TestConnectionLimitIsExplainedOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("a"), 40, dep.KVValue{Exists: true, Value: "a"})
		f.set(kv("b"), 40, dep.KVValue{Exists: true, Value: "b"})
		var logs strings.Builder
		p := runPool(t, f, watch.Options{Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil))})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()
		f.setDown(fmt.Errorf("Unexpected response code: 429: %w", watch.ErrConnectionLimit))
		time.Sleep(time.Minute)
		synctest.Wait()
		out := logs.String()
		if n := strings.Count(out, "http_max_conns_per_client"); n != 1 {
			t.Fatalf("explained %d times:\n%s", n, out)
		}
		if !strings.Contains(out, "dependencies=2") {
			t.Fatalf("the explanation does not count the dependencies:\n%s", out)
		}
	})
}

// lockedWriter lets pollers log to one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// TestStateResetAsksEveryDependencyAfresh: one dependency comes back from
// failed queries with an index below its last one (Consul lost its state:
// a restarted dev agent). Another, whose blocking query waits on an index
// of the old state, is asked afresh at once instead of being held until its
// wait runs out.
func TestStateResetAsksEveryDependencyAfresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newGated(newFake())
		f.set(kv("a"), 40, dep.KVValue{Exists: true, Value: "a"})
		f.set(kv("b"), 50, dep.KVValue{Exists: true, Value: "b"})
		p := runPool(t, f, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()
		signalled(s)

		f.breakDep(kv("a"))
		f.set(kv("a"), 41, dep.KVValue{Exists: true, Value: "a"}) // a's query returns; the next fails
		time.Sleep(time.Second)
		synctest.Wait()
		// The new state: low indexes. b's query on 50 would be held for a minute.
		f.change(func() {
			f.data[kv("a")] = entry{3, dep.KVValue{Exists: true, Value: "a"}}
			f.data[kv("b")] = entry{5, dep.KVValue{Exists: true, Value: "b after the reset"}}
		})
		f.mend(kv("a"))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if v, _ := s.Recall(kv("b")); v != (dep.KVValue{Exists: true, Value: "b after the reset"}) {
			t.Fatalf("b after the reset: %v", v)
		}
		var idx []uint64
		for _, c := range f.callsTo(kv("b")) {
			idx = append(idx, c.q.WaitIndex)
		}
		if want := []uint64{0, 50, 0, 5}; !slicesEqual(idx, want) {
			t.Fatalf("b's wait indexes %v, want %v", idx, want)
		}
	})
}
