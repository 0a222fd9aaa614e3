package watch_test

import (
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// TestOutageHealsEveryDependencyOnceOneRecovers: the link to Consul is cut
// until the backoffs of a and b have grown to more than 38 s; the data
// changes meanwhile. A dependency wanted during the outage, whose backoff is
// still short, is the first to get through once the link is back: a and b
// follow it within seconds instead of at the end of their backoffs.
func TestOutageHealsEveryDependencyOnceOneRecovers(t *testing.T) {
	c := startConsul(t)
	c.PutKV("a", "before")
	c.PutKV("b", "before")
	c.PutKV("c", "c")
	link := testenv.StartProxy(t, c.Addr)
	retry := watch.Retry{Backoff: 3 * time.Second, MaxBackoff: time.Minute}
	pool := startPool(t, link.Addr, watch.Options{Retry: retry})
	s := pool.Subscribe()
	s.Want([]dep.Dependency{kv("a"), kv("b")})
	waitKV(t, s, kv("a"), "before")
	waitKV(t, s, kv("b"), "before")

	link.Cut()
	// The 5th failure comes 3+6+12+24 s after the first, less up to a fifth,
	// and waits 48 s less up to a fifth: more than 38 s.
	testenv.WaitFor(t, 90*time.Second, "a and b to fail 5 times", func() bool {
		for _, st := range pool.Status() {
			if st.Failures < 5 {
				return false
			}
		}
		return true
	})
	c.PutKV("a", "after")
	c.PutKV("b", "after")
	late := pool.Subscribe()
	late.Want([]dep.Dependency{kv("c")})
	testenv.WaitFor(t, 30*time.Second, "c to fail", func() bool {
		for _, st := range pool.Status() {
			if st.Dependency == kv("c").String() {
				return st.Failures > 0
			}
		}
		return false
	})

	link.Mend()
	mended := time.Now()
	// c retries within 3 s, then a and b within 3 s of its answer; their own
	// backoffs end more than 38 s after their 5th failure.
	testenv.WaitFor(t, 20*time.Second, "a and b to follow the change after the outage", func() bool {
		a, _ := s.Recall(kv("a"))
		b, _ := s.Recall(kv("b"))
		after := dep.KVValue{Exists: true, Value: "after"}
		return a == after && b == after
	})
	t.Logf("a and b healed %s after the link came back", time.Since(mended).Round(time.Millisecond))
	for _, st := range pool.Status() {
		if st.Failures != 0 {
			t.Fatalf("after the outage: %+v", st)
		}
	}
}
