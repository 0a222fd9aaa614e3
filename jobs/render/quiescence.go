package render

import "time"

// window is the pure timing of quiescence: a change opens the window, every
// further change pushes the end to min after itself, and the end never passes
// max after the change that opened it. It knows nothing of clocks or timers:
// callers pass the time in and arm their own timer with the result, so the
// rules are testable as plain values.
//
// The window is half-open: a change at or after the end belongs to the next
// window. Callers render when expired reports true and then close the window;
// the render reads the data as of that moment, so it covers every change seen.
//
// The same type spaces a job's renders (wait { min max }) and gathers the
// requests for one reload command (gatherQuiet, gatherMax).
type window struct {
	min, max time.Duration
	open     bool
	end      time.Time // when the caller should act
	deadline time.Time // opening change + max
}

func newWindow(quiet, limit time.Duration) window {
	// The configuration defaults max to 4 x min; a max below min (from a
	// hand-built config) would make min meaningless, so min wins.
	return window{min: quiet, max: max(quiet, limit)}
}

// change records a change at now and returns when the window ends.
func (w *window) change(now time.Time) time.Time {
	if !w.open {
		w.open = true
		w.deadline = now.Add(w.max)
	}
	w.end = now.Add(w.min)
	if w.end.After(w.deadline) {
		w.end = w.deadline
	}
	return w.end
}

// expired reports whether the window is open and has ended at now.
func (w *window) expired(now time.Time) bool { return w.open && !now.Before(w.end) }

// close ends the window: the next change opens a fresh one.
func (w *window) close() { w.open = false }
