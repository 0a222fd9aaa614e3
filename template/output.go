package template

// output is what an execution writes to. Once a dependency is missing the
// render will not be used (Result.Output is only meaningful when complete),
// so from then on the text is dropped instead of kept: the passes of n-pass
// discovery, and every render while Consul's answers arrive, build no output
// they would throw away. Functions with side effects still run.
type output struct {
	buf     []byte
	written int  // bytes written this run, dropped or not
	size    int  // bytes written by the last run: the first write reserves it
	dropped bool // a dependency is missing: keep nothing
}

func (o *output) Write(p []byte) (int, error) {
	o.written += len(p)
	if o.dropped {
		return len(p), nil
	}
	if len(o.buf)+len(p) > cap(o.buf) {
		// Double, as bytes.Buffer does: append grows a large slice by a
		// quarter, which copies a big render many times over.
		grown := make([]byte, len(o.buf), max(2*cap(o.buf), len(o.buf)+len(p), o.size))
		copy(grown, o.buf)
		o.buf = grown
	}
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// drop discards what was written and what will be.
func (o *output) drop() {
	o.dropped, o.buf = true, nil
}

// take returns the text of a complete run (nil if it was dropped) and
// resets o for the next run. The next run's first write reserves as much as
// this one wrote, dropped or not: an incomplete pass writes about what the
// complete one that follows it will.
func (o *output) take() []byte {
	out := o.buf
	if !o.dropped && out == nil {
		out = []byte{}
	}
	o.size = o.written
	o.reset()
	return out
}

// reset discards a failed run's text.
func (o *output) reset() {
	o.buf, o.written, o.dropped = nil, 0, false
}
