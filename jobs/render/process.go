package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
)

const (
	// defaultTimeout applies when a hand-built config leaves command_timeout
	// zero; config.Load defaults it to the same value.
	defaultTimeout = 30 * time.Second
	// pipeGrace bounds how long a run waits for its output after the
	// process ended: a descendant it started in the background (`app &`)
	// may hold the output open for as long as it runs.
	pipeGrace = 250 * time.Millisecond
	// maxLine bounds one logged line of a command's output; the rest of a
	// longer line is dropped so that a runaway command cannot flood the log.
	maxLine = 4096
	// maxCheckOutput bounds the output of a check kept for the log and status.
	maxCheckOutput = 8192
)

// process is one run of a check or a reload command.
type process struct {
	cmd     config.Command
	env     []string // added to the agent's environment
	timeout time.Duration
	stdout  io.Writer
	stderr  io.Writer
	// late, if not nil, makes the writer for a stream's output that comes
	// after run has returned, from a descendant left running; else that
	// output is read and dropped.
	late func(stream string) io.Writer
	// drainCtx ends the reading of such output (the agent stops); nil
	// means it is read until the descendants close it.
	drainCtx context.Context
	// running, if not nil, is told the pid of the process (the id of its
	// process group) once it has started, and 0 once it has exited.
	running func(pid int)
}

// argv is how a command runs: a string through /bin/sh -c, a list as is.
func argv(c config.Command) []string {
	if c.Shell != "" {
		return []string{"/bin/sh", "-c", c.Shell}
	}
	return c.Argv
}

// run runs p in its own process group. When the timeout expires, or ctx ends
// first, the whole group is killed with SIGKILL, so that a shell's children
// die with it. The result always has Command, At and Duration; ExitCode is
// -1 when the process did not exit by itself.
func (p process) run(ctx context.Context) jobs.CommandResult {
	start := time.Now()
	res := jobs.CommandResult{Command: p.cmd.String(), At: start, ExitCode: -1}
	timeout := p.timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	args := argv(p.cmd)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := p.attach(cmd)
	if err == nil {
		err = cmd.Start()
		out.started(err == nil)
		if err == nil {
			p.tell(cmd.Process.Pid)
			err = cmd.Wait()
			p.tell(0)
			out.settle(p.late, p.drainCtx)
		}
	}

	res.Duration = time.Since(start)
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && res.ExitCode >= 0:
		// A plain non-zero exit: ExitCode says it all.
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.TimedOut = true
		res.Error = fmt.Sprintf("timed out after %s: process group killed", timeout)
	case ctx.Err() != nil:
		res.Error = fmt.Sprintf("stopped: process group killed: %v", err)
	default:
		res.Error = err.Error()
	}
	return res
}

func (p process) tell(pid int) {
	if p.running != nil {
		p.running(pid)
	}
}

// failed reports whether a run did not succeed.
func failed(r jobs.CommandResult) bool { return r.Error != "" || r.ExitCode != 0 }

// outcome is the label of a run in the commands metric.
func outcome(r jobs.CommandResult) string {
	switch {
	case r.TimedOut:
		return "timeout"
	case failed(r):
		return "failed"
	}
	return "ok"
}

// lineLog logs a process's output one line at a time, at info level, and
// keeps the last tailLines lines, which a failure is logged with at any
// level. One lineLog serves one stream.
type lineLog struct {
	log       *slog.Logger
	stream    string
	buf       []byte
	truncated bool
	tail      []string
}

// tailLines is how many of its last lines of output a failed command is
// logged with.
const tailLines = 10

func (l *lineLog) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.add(p)
			break
		}
		l.add(p[:i])
		l.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (l *lineLog) add(b []byte) {
	if l.truncated {
		return
	}
	if room := maxLine - len(l.buf); len(b) > room {
		b, l.truncated = b[:room], true
	}
	l.buf = append(l.buf, b...)
}

// flush logs the pending line; called at each newline and when output ends.
func (l *lineLog) flush() {
	if len(l.buf) > 0 {
		attrs := []any{"stream", l.stream, "line", string(l.buf)}
		if l.truncated {
			attrs = append(attrs, "truncated", true)
		}
		l.log.Info("command output", attrs...)
		if len(l.tail) == tailLines {
			l.tail = l.tail[1:]
		}
		l.tail = append(l.tail, string(l.buf))
	}
	l.buf, l.truncated = l.buf[:0], false
}

// last is the tail of the output, lines joined by newlines.
func (l *lineLog) last() string { return strings.Join(l.tail, "\n") }

// capped keeps the first max bytes written to it: a check's output, which
// is logged and reported whole when the check fails.
type capped struct {
	max       int
	buf       bytes.Buffer
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		c.truncated = true
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) String() string {
	s := strings.TrimSpace(c.buf.String())
	if c.truncated {
		s += " [truncated]"
	}
	return s
}
