package watch_test

import (
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// TestSubscribersShareOneQueryPerDependency: N subscribers sharing K
// dependencies hold K blocking queries open, not N×K.
func TestSubscribersShareOneQueryPerDependency(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "1")
	c.PutKV("b", "2")
	c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80})
	p := testenv.StartProxy(t, c.Addr)
	pool := startPool(t, p.Addr, watch.Options{MaxStale: 2 * time.Second})

	deps := []dep.Dependency{
		kv("a"), kv("b"),
		{Kind: dep.KindHealthService, Name: "web", Filter: "passing"},
		{Kind: dep.KindCatalogServices},
		{Kind: dep.KindKVList, Name: "b"},
	}
	const n = 10
	var subs []*watch.Subscription
	for i := range n {
		s := pool.Subscribe()
		s.Want(deps[:len(deps)-i%2]) // half of them want one less
		subs = append(subs, s)
	}
	testenv.WaitFor(t, 30*time.Second, "every subscriber to have data", func() bool {
		for i, s := range subs {
			for _, d := range deps[:len(deps)-i%2] {
				if _, ok := s.Recall(d); !ok {
					return false
				}
			}
		}
		return true
	})
	testenv.WaitFor(t, 30*time.Second, "one blocking query per dependency", func() bool {
		open, distinct := p.Blocking()
		return open == len(deps) && distinct == len(deps)
	})
	if got := p.Requests(); got >= n*len(deps) {
		t.Fatalf("%d requests for %d subscribers of %d dependencies", got, n, len(deps))
	}
	t.Logf("%d subscribers × %d dependencies: %d requests, %d blocking queries open", n, len(deps), p.Requests(), len(deps))
	if st := pool.Stats(); st.Dependencies != len(deps) || st.Subscriptions != n {
		t.Fatalf("stats %+v", st)
	}
}

// TestChangeSignalsOnlyItsSubscribers: a change of b wakes the subscribers
// of b and no one else.
func TestChangeSignalsOnlyItsSubscribers(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "1")
	c.PutKV("b", "1")
	pool := startPool(t, c.Addr, watch.Options{})
	sa, sb := pool.Subscribe(), pool.Subscribe()
	sa.Want([]dep.Dependency{kv("a")})
	sb.Want([]dep.Dependency{kv("b")})
	waitKV(t, sa, kv("a"), "1")
	waitKV(t, sb, kv("b"), "1")
	drain(sa)
	drain(sb)

	for _, v := range []string{"2", "3", "4"} {
		c.PutKV("b", v)
		waitKV(t, sb, kv("b"), v)
		// The signal is sent under the same lock that stores the data, so
		// a wrong signal to sa would already be pending.
		if drain(sa) {
			t.Fatalf("the subscriber of a was signalled for b = %s", v)
		}
		if !drain(sb) {
			t.Fatalf("the subscriber of b was not signalled for b = %s", v)
		}
	}
}

// TestClosingTheLastSubscriberStopsTheQuery, and closing one of two does not.
func TestClosingTheLastSubscriberStopsTheQuery(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "1")
	p := testenv.StartProxy(t, c.Addr)
	pool := startPool(t, p.Addr, watch.Options{})
	s1, s2 := pool.Subscribe(), pool.Subscribe()
	s1.Want([]dep.Dependency{kv("a")})
	s2.Want([]dep.Dependency{kv("a")})
	waitKV(t, s2, kv("a"), "1")
	waitOpen := func(want int) {
		t.Helper()
		testenv.WaitFor(t, 30*time.Second, "blocking queries open", func() bool {
			open, _ := p.Blocking()
			return open == want
		})
	}
	waitOpen(1)

	s1.Close()
	c.PutKV("a", "2")
	waitKV(t, s2, kv("a"), "2") // the poller outlived s1
	waitOpen(1)

	s2.Close()
	waitOpen(0)
	if st := pool.Stats(); st.Dependencies != 0 || st.Subscriptions != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestNewSubscriptionOfWatchedDataCostsNothing is what a reload does: the
// new job's subscription wants what the old one had, then the old one
// closes; the pollers and their data carry over.
func TestNewSubscriptionOfWatchedDataCostsNothing(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "1")
	c.PutKV("b", "1")
	p := testenv.StartProxy(t, c.Addr)
	pool := startPool(t, p.Addr, watch.Options{})
	old := pool.Subscribe()
	old.Want([]dep.Dependency{kv("a"), kv("b")})
	waitKV(t, old, kv("a"), "1")
	waitKV(t, old, kv("b"), "1")
	testenv.WaitFor(t, 30*time.Second, "both pollers to wait in a blocking query", func() bool {
		open, _ := p.Blocking()
		return open == 2
	})
	before := pool.Status()
	queries := pool.Stats().Queries

	next := pool.Subscribe()
	next.Want([]dep.Dependency{kv("a"), kv("b")})
	if v, ok := next.Recall(kv("b")); !ok || v != (dep.KVValue{Exists: true, Value: "1"}) {
		t.Fatalf("a new subscription of watched data must answer at once: %v %v", v, ok)
	}
	if !drain(next) {
		t.Fatal("a new subscription of watched data must be signalled once")
	}
	old.Close()
	after := pool.Status()
	for i := range before {
		if !after[i].WatchedSince.Equal(before[i].WatchedSince) {
			t.Fatalf("%s was watched afresh", after[i].Dependency)
		}
	}
	if got := pool.Stats().Queries; got != queries {
		t.Fatalf("queries went from %d to %d", queries, got)
	}
	c.PutKV("a", "2")
	waitKV(t, next, kv("a"), "2")
}
