package watch_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// TestRecoveryWakesTheDependenciesInBackoff: b's queries fail long enough
// for its backoff to grow to minutes, and a's answers meanwhile do not wake
// it (b fails on its own). Then a's queries fail too, and a recovers: b asks
// again within one base backoff instead of minutes later and, failing
// again, goes on with its next, longer backoff.
func TestRecoveryWakesTheDependenciesInBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		retry := watch.Retry{Backoff: time.Second, MaxBackoff: 10 * time.Minute}
		f := newGated(newFake())
		f.set(kv("a"), 10, dep.KVValue{Exists: true, Value: "a"})
		f.set(kv("b"), 20, dep.KVValue{Exists: true, Value: "b"})
		p := runPool(t, f, watch.Options{BlockQueryWait: 10 * time.Second, Retry: retry})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("a"), kv("b")})
		settle()

		brokeAt := time.Now()
		f.breakDep(kv("b"))
		f.set(kv("b"), 21, dep.KVValue{Exists: true, Value: "b"}) // b's query answers; the next ones fail
		time.Sleep(5 * time.Minute)

		f.breakDep(kv("a"))
		f.set(kv("a"), 11, dep.KVValue{Exists: true, Value: "a"}) // a's query answers; the next fails
		time.Sleep(500 * time.Millisecond)
		f.mend(kv("a"))
		mendedAt := time.Now()
		time.Sleep(10 * time.Minute)
		synctest.Wait()

		var recovery time.Time
		for _, c := range f.callsTo(kv("a")) {
			if !c.at.Before(mendedAt) {
				recovery = c.at
				break
			}
		}
		if recovery.IsZero() || p.Status()[0].Failures != 0 {
			t.Fatalf("a did not recover: %+v", p.Status()[0])
		}
		var at []time.Duration // b's queries since it broke
		woken := -1
		for _, c := range f.callsTo(kv("b")) {
			if !c.at.Before(brokeAt) {
				if woken < 0 && !c.at.Before(recovery) {
					woken = len(at)
				}
				at = append(at, c.at.Sub(brokeAt))
			}
		}
		if woken < 1 || at[woken]-recovery.Sub(brokeAt) > retry.Backoff {
			t.Fatalf("b's queries at %v, a recovered at %v: b was not woken within %s",
				at, recovery.Sub(brokeAt), retry.Backoff)
		}
		// Every other wait of b is its backoff, less up to a fifth: the
		// woken query counts as one more failure.
		for i := 1; i < len(at); i++ {
			if i == woken {
				continue
			}
			d := delay(retry, i)
			if g := at[i] - at[i-1]; g > d || g < d-d/5 {
				t.Fatalf("b's retry %d after %s, want %s less up to a fifth (queries at %v, woken: %d)", i, g, d, at, woken)
			}
		}
		if len(at) != woken+2 {
			t.Fatalf("b's queries at %v, woken: %d; want one more after the wake", at, woken)
		}
		if st := p.Status()[1]; st.Failures != len(at) {
			t.Fatalf("b after %d failed queries: %+v", len(at), st)
		}
	})
}

// delay is r's wait after the n-th consecutive failure, before jitter.
func delay(r watch.Retry, n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n; i++ {
		d = min(2*d, r.MaxBackoff)
	}
	return d
}

// flapping answers y's first query but fails every blocking one at once (a
// proxy that cuts held connections), so y recovers again and again, and
// refuses x always (a token without the right).
type flapping struct{ *fakeConsul }

func (f flapping) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	if d == kv("x") || (d == kv("y") && q.WaitIndex > 0) {
		f.mu.Lock()
		f.calls = append(f.calls, call{d, q, time.Now()})
		f.mu.Unlock()
		return nil, watch.ResponseMeta{}, errors.New("Permission denied")
	}
	return f.fakeConsul.Fetch(ctx, d, q)
}

// TestRecoveriesDoNotDefeatBackoff: y's recoveries wake x, but a woken x
// that fails again waits out its next backoff in full, so x is asked about
// as often as its backoff says, not at every recovery of y (1,791 times in
// ten minutes before; 19 with no wake at all).
func TestRecoveriesDoNotDefeatBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.set(kv("y"), 5, dep.KVValue{Exists: true, Value: "y"})
		p := runPool(t, flapping{f}, watch.Options{})
		s := p.Subscribe()
		s.Want([]dep.Dependency{kv("x"), kv("y")})
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := len(f.callsTo(kv("x"))); n > 40 {
			t.Errorf("x, always refused, was asked %d times in 10 minutes (max_backoff 1m)", n)
		}
	})
}
