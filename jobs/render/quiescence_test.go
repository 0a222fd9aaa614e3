package render

import (
	"slices"
	"testing"
	"time"
)

// simulate is the job's loop reduced to the window: changes at the given
// offsets; a change at or after the window's end finds the render done and
// opens the next window. It returns the offsets of the renders.
func simulate(quiet, limit time.Duration, changes []time.Duration) []time.Duration {
	var renders []time.Duration
	w := newWindow(quiet, limit)
	t0 := time.Unix(1e9, 0)
	for _, c := range changes {
		now := t0.Add(c)
		if w.expired(now) {
			renders = append(renders, w.end.Sub(t0))
			w.close()
		}
		w.change(now)
	}
	if w.open {
		renders = append(renders, w.end.Sub(t0))
	}
	return renders
}

// every returns n offsets step apart, starting at 0.
func every(step time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * step
	}
	return out
}

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestWindowTimelines(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name       string
		min, max   time.Duration
		changes    []time.Duration
		wantRender []time.Duration
	}{
		{"one change waits min", 2 * s, 5 * s, every(0, 1), []time.Duration{2 * s}},
		{"a burst is one render, min after its last change", 2 * s, 5 * s, every(ms(500), 3), []time.Duration{3 * s}},
		{"quiet changes render each", 2 * s, 5 * s, []time.Duration{0, 3 * s, 6 * s}, []time.Duration{2 * s, 5 * s, 8 * s}},
		// The brief's timeline: a change every second from +0 to +9. The
		// first window is capped at +5; the change at +5 finds it ended and
		// opens the next, capped at +10, which the changes at +6..+9 keep
		// pushing against. Changes at +0..+8 give the same renders.
		{"every second for 9s", 2 * s, 5 * s, every(s, 10), []time.Duration{5 * s, 10 * s}},
		{"every second up to +8", 2 * s, 5 * s, every(s, 9), []time.Duration{5 * s, 10 * s}},
		// consul-template's verified timeline (fact sheet §1.5): a change
		// every 1.06s for 9s renders at +5.00 and at the second window's
		// deadline, +5.30+5 = +10.30.
		{"consul-template's 1.06s timeline", 2 * s, 5 * s, every(ms(1060), 9), []time.Duration{5 * s, ms(10300)}},
		{"max equal to min", 2 * s, 2 * s, every(s, 4), []time.Duration{2 * s, 4 * s}},
		{"max below min is min", 2 * s, s, every(s, 2), []time.Duration{2 * s}},
		// The coalescing target: 100 changes in 3s, min 1s, max 4s (the
		// default 4 x min): one render, 1s after the last change.
		{"100 changes in 3s", s, 4 * s, every(ms(30), 100), []time.Duration{ms(3970)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := simulate(tc.min, tc.max, tc.changes); !slices.Equal(got, tc.wantRender) {
				t.Errorf("renders at %v, want %v", got, tc.wantRender)
			}
		})
	}
}

func TestWindowEndNeverPassesDeadline(t *testing.T) {
	w := newWindow(2*time.Second, 5*time.Second)
	t0 := time.Unix(1e9, 0)
	w.change(t0)
	for i := range 10 {
		now := t0.Add(time.Duration(i) * 400 * time.Millisecond)
		if end := w.change(now); end.After(t0.Add(5 * time.Second)) {
			t.Fatalf("change at %v: end %v passes the deadline", now.Sub(t0), end.Sub(t0))
		}
	}
	if w.expired(t0.Add(5*time.Second-1)) || !w.expired(t0.Add(5*time.Second)) {
		t.Fatal("the window must end exactly at the deadline")
	}
	w.close()
	if w.expired(t0.Add(time.Hour)) {
		t.Fatal("a closed window never expires")
	}
}
