package render

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// outputs are the pipes a process writes its stdout and stderr to, and
// their readers. exec.Cmd's own copying makes Wait wait until every holder
// of the output has closed it, so a command that starts a background
// process (`app &`, as consul-template users do) would hold its run up;
// and ending the wait closes the pipe, which kills that process with
// SIGPIPE at its next line. Here Wait returns when the process exits, the
// run waits pipeGrace for the rest of its output, and a descendant's later
// output keeps being read (to process.late) until it closes it or the
// agent stops.
type outputs struct {
	streams []*stream
}

// stream is one pipe and its reader.
type stream struct {
	name string
	r, w *os.File
	to   *handoff
	done chan struct{}
}

// attach gives cmd a pipe for each of p's writers (one for both when they
// are the same writer, as exec.Cmd shares one); a nil writer is /dev/null.
func (p process) attach(cmd *exec.Cmd) (*outputs, error) {
	o := &outputs{}
	add := func(name string, w io.Writer) (*os.File, error) {
		r, pw, err := os.Pipe()
		if err != nil {
			o.started(false)
			return nil, fmt.Errorf("output pipe: %w", err)
		}
		o.streams = append(o.streams, &stream{name: name, r: r, w: pw, to: &handoff{w: w}, done: make(chan struct{})})
		return pw, nil
	}
	if p.stdout != nil {
		w, err := add("stdout", p.stdout)
		if err != nil {
			return nil, err
		}
		cmd.Stdout = w
		if p.stderr == p.stdout {
			cmd.Stderr = w
			return o, nil
		}
	}
	if p.stderr != nil {
		w, err := add("stderr", p.stderr)
		if err != nil {
			return nil, err
		}
		cmd.Stderr = w
	}
	return o, nil
}

// started closes this process's copies of the write ends, which the child
// has now, and starts the readers; when the process did not start, it
// closes the read ends too. A reader ends at the end of its output.
func (o *outputs) started(ok bool) {
	for _, s := range o.streams {
		s.w.Close()
		if !ok {
			s.r.Close()
			close(s.done)
			continue
		}
		go func() {
			defer close(s.done)
			_, _ = io.Copy(s.to, s.r)
			s.to.finish()
			s.r.Close()
		}()
	}
}

// settle waits, at most pipeGrace, for the rest of the output of a process
// that has exited. Output still open after that is a descendant's (detach).
func (o *outputs) settle(late func(stream string) io.Writer, ctx context.Context) {
	grace := time.NewTimer(pipeGrace)
	defer grace.Stop()
	for _, s := range o.streams {
		select {
		case <-s.done:
		case <-grace.C:
			o.detach(late, ctx)
			return
		}
	}
}

// detach sends the output still open to late(stream), or nowhere, so that
// the run's own writers are the caller's again, and ends its reading when
// ctx ends (nil: when the descendant closes it).
func (o *outputs) detach(late func(stream string) io.Writer, ctx context.Context) {
	for _, s := range o.streams {
		w := io.Discard
		if late != nil {
			w = late(s.name)
		}
		s.to.swap(w)
		if ctx == nil {
			continue
		}
		go func() {
			select {
			case <-ctx.Done():
				s.r.Close() // ends the copy: the agent is stopping
			case <-s.done:
			}
		}()
	}
}

// handoff is a writer that can be pointed at another one while a reader
// writes to it.
type handoff struct {
	mu sync.Mutex
	w  io.Writer
}

func (h *handoff) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.w.Write(p)
}

func (h *handoff) swap(w io.Writer) {
	h.mu.Lock()
	h.w = w
	h.mu.Unlock()
}

// finish flushes a writer that holds a partial line, at the end of the
// output.
func (h *handoff) finish() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if l, ok := h.w.(*lineLog); ok {
		l.flush()
	}
}
