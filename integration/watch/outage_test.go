package watch_test

import (
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// TestOutageKeepsDataAndHealsByItself: Consul stops, the pool keeps the last
// data and reports the dependencies failing; a fresh, empty Consul starts on
// the same address and the pool delivers its data without any action of the
// subscriber.
func TestOutageKeepsDataAndHealsByItself(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "before")
	c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80})
	pool := startPool(t, c.Addr, watch.Options{
		MaxStale: 2 * time.Second,
		Retry:    watch.Retry{Attempts: 3, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond},
	})
	web := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
	s := pool.Subscribe()
	s.Want([]dep.Dependency{kv("a"), web})
	waitKV(t, s, kv("a"), "before")
	testenv.WaitFor(t, 30*time.Second, "web-1", func() bool {
		v, ok := s.Recall(web)
		return ok && len(v.([]*dep.HealthService)) == 1
	})
	drain(s)

	c.Stop()
	testenv.WaitFor(t, 30*time.Second, "every dependency to be failing", func() bool {
		for _, st := range pool.Status() {
			if !st.Failing {
				return false
			}
		}
		return pool.Stats().Failing == 2
	})
	if v, ok := s.Recall(kv("a")); !ok || v != (dep.KVValue{Exists: true, Value: "before"}) {
		t.Fatalf("data lost while Consul is down: %v %v", v, ok)
	}
	if v, ok := s.Recall(web); !ok || len(v.([]*dep.HealthService)) != 1 {
		t.Fatalf("data lost while Consul is down: %v %v", v, ok)
	}
	if drain(s) {
		t.Fatal("the outage signalled a change")
	}
	st := pool.Status()[0]
	t.Logf("while down: %s failing after %d failures: %s", st.Dependency, st.Failures, st.LastError)

	c.Start() // empty: its indexes start low again
	c.PutKV("a", "after")
	waitKV(t, s, kv("a"), "after")
	testenv.WaitFor(t, 30*time.Second, "web to have no instance on the empty agent", func() bool {
		v, ok := s.Recall(web)
		return ok && len(v.([]*dep.HealthService)) == 0
	})
	testenv.WaitFor(t, 30*time.Second, "every dependency to recover", func() bool {
		for _, st := range pool.Status() {
			if st.Failing || st.Failures != 0 {
				return false
			}
		}
		return true
	})
	if !drain(s) {
		t.Fatal("fresh data was not signalled")
	}
	if st := pool.Stats(); st.QueryErrors == 0 || st.Failing != 0 {
		t.Fatalf("stats %+v", st)
	}
}
