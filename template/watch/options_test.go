package watch

import (
	"testing"
	"time"
)

func TestRetryDelayDoublesUpToTheCap(t *testing.T) {
	r := Options{}.withDefaults().Retry
	want := []time.Duration{
		250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second,
		8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute, time.Minute, time.Minute,
	}
	for i, w := range want {
		if got := r.delay(i + 1); got != w {
			t.Errorf("delay after failure %d = %s, want %s", i+1, got, w)
		}
	}
	// Far past the cap, the doubling must neither overflow nor exceed it.
	if got := r.delay(10_000); got != time.Minute {
		t.Errorf("delay after failure 10000 = %s, want 1m", got)
	}
}

func TestRetryDelayWithCapBelowBackoff(t *testing.T) {
	r := Retry{Attempts: 3, Backoff: time.Second, MaxBackoff: 300 * time.Millisecond}
	if got := r.delay(1); got != 300*time.Millisecond {
		t.Fatalf("delay = %s, want the cap", got)
	}
}

func TestJitterStaysWithinAFifth(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 5, 100 * time.Millisecond, time.Minute} {
		for range 200 {
			if got := jitterDown(d); got < d-d/5 || got > d {
				t.Fatalf("jitterDown(%s) = %s", d, got)
			}
			if got := jitterUp(d); got < d || got > d+d/5 {
				t.Fatalf("jitterUp(%s) = %s", d, got)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	o := Options{MaxStale: 2 * time.Second}.withDefaults()
	if o.BlockQueryWait != time.Minute || o.MinGap != 100*time.Millisecond || o.MaxStale != 2*time.Second ||
		o.Retry != (Retry{12, 250 * time.Millisecond, time.Minute}) || o.Logger == nil {
		t.Fatalf("defaults: %+v", o)
	}
	if (Options{}).withDefaults().MaxStale != 0 {
		t.Fatal("a zero MaxStale must stay zero: it means never stale")
	}
}
