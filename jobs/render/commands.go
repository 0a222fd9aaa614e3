package render

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
)

// Requests for one command are gathered before it starts, so that the jobs
// woken by one change share one run. Two things gather them:
//   - a job that has the command holds it while it renders, checks and
//     writes (hold), and a queued run does not start while it is held: the
//     jobs woken together all hold it within microseconds, however long
//     their fsyncs and checks then take (BenchmarkGatherSpread: ten jobs'
//     writes spread over 2-7 ms typically, up to 190 ms on a loaded
//     machine, which a fixed window of a few ms would not cover);
//   - a short quiet window, quiescence in small: each request pushes the
//     start gatherQuiet later, for jobs that wake a moment later.
//
// A command that only one job has (the common case) gathers nothing: no
// other job can join it, so it starts at once. A job's first request
// gathers all the same: jobs started together own their commands in their
// own goroutines, so at start the runner cannot yet know who else may join.
//
// Neither delays a run more than gatherMax after its first request, so that
// a job stuck in a slow check, or rendering nonstop, cannot hold a reload
// back for long.
const (
	gatherQuiet = 5 * time.Millisecond
	gatherMax   = 500 * time.Millisecond
)

// CommandRunner runs the reload commands of all the template jobs of a
// process. Identical commands (same command and environment) requested by
// several jobs run once; a command never runs twice at the same time: a
// request that arrives while it runs queues exactly one more run, which
// every later request joins until it starts. Different commands run
// concurrently. The agent creates one, starts Run, and passes it to every
// job in Options.Commands.
type CommandRunner struct {
	log     *slog.Logger
	metrics *jobs.Metrics
	wake    chan struct{} // Run's doorbell; buffered, never closed

	mu       sync.Mutex
	slots    map[string]*slot // by commandKey
	stopping bool
	killed   bool // Kill was called: a command that starts now is killed at once
}

// slot is the state of one distinct command.
type slot struct {
	queued  *CommandRun // gathering requests, or waiting for running to end
	running *CommandRun
	holds   int // jobs rendering that may request it
	owners  int // running jobs that have this command
}

// idle reports whether the slot can be forgotten.
func (s *slot) idle() bool {
	return s.queued == nil && s.running == nil && s.holds == 0 && s.owners == 0
}

// own tells the runner that a running job has the command, so that the
// runner knows whether another job could join a run; release when the job
// stops.
func (c *CommandRunner) own(cmd config.Command, env []string) (release func()) {
	return c.count(cmd, env, func(s *slot) *int { return &s.owners })
}

// CommandRequest asks for a job's command to run after a write.
type CommandRequest struct {
	Job     string
	Command config.Command
	Env     []string      // the whole environment (Job.cmdEnv)
	Timeout time.Duration // the run gets the longest timeout of its requests
	First   bool          // the job's first request since it started
}

// CommandRun is one run of a command, shared by the jobs that requested it
// before it started.
type CommandRun struct {
	key     string
	cmd     config.Command
	env     []string
	timeout time.Duration
	jobs    []string
	first   bool // a request was a job's first: gather even if one job owns it
	gather  window
	pid     int // of the process while it runs, for Kill; guarded by CommandRunner.mu

	done   chan struct{}
	result jobs.CommandResult
}

// Done is closed when the run has ended, or was dropped because the agent
// stopped first.
func (r *CommandRun) Done() <-chan struct{} { return r.done }

// Result is the outcome; valid once Done is closed.
func (r *CommandRun) Result() jobs.CommandResult { return r.result }

func (r *CommandRun) finish(res jobs.CommandResult) {
	r.result = res
	close(r.done)
}

// CommandRunnerOptions are what a runner gets from the agent.
type CommandRunnerOptions struct {
	Logger  *slog.Logger  // runs log with job=NAMES and command=...; nil discards
	Metrics *jobs.Metrics // nil records nothing
}

// NewCommandRunner returns a runner; start it with Run.
func NewCommandRunner(o CommandRunnerOptions) *CommandRunner {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &CommandRunner{log: o.Logger, metrics: o.Metrics, wake: make(chan struct{}, 1), slots: map[string]*slot{}}
}

// hold tells the runner that a job which has the command is rendering and
// may request it; release (exactly once) when the job has requested it or
// knows it will not.
func (c *CommandRunner) hold(cmd config.Command, env []string) (release func()) {
	return c.count(cmd, env, func(s *slot) *int { return &s.holds })
}

// count adds one to a counter of the command's slot; release takes it back
// and forgets the slot once it is idle.
func (c *CommandRunner) count(cmd config.Command, env []string, counter func(*slot) *int) (release func()) {
	key := commandKey(cmd, env)
	c.mu.Lock()
	defer c.mu.Unlock()
	*counter(c.slot(key))++
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		s := c.slots[key]
		if *counter(s)--; s.idle() {
			delete(c.slots, key)
		}
		c.ring()
	}
}

// slot returns the slot of key, created if need be; c.mu is held.
func (c *CommandRunner) slot(key string) *slot {
	s := c.slots[key]
	if s == nil {
		s = &slot{}
		c.slots[key] = s
	}
	return s
}

// running returns the run of cmd (with env) that is executing now, or nil.
func (c *CommandRunner) running(cmd config.Command, env []string) *CommandRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.slots[commandKey(cmd, env)]; s != nil {
		return s.running
	}
	return nil
}

// Request asks for req's command to run. It never blocks; the returned run
// is Done when the command has run (or will not: the agent is stopping).
func (c *CommandRunner) Request(req CommandRequest) *CommandRun {
	key := commandKey(req.Command, req.Env)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		r := &CommandRun{cmd: req.Command, jobs: []string{req.Job}, done: make(chan struct{})}
		r.finish(jobs.CommandResult{Command: req.Command.String(), At: now, ExitCode: -1,
			Error: "not run: the agent is stopping"})
		return r
	}
	s := c.slot(key)
	r := s.queued
	if r == nil {
		r = &CommandRun{key: key, cmd: req.Command, env: req.Env, gather: newWindow(gatherQuiet, gatherMax),
			done: make(chan struct{})}
		s.queued = r
	}
	r.gather.change(now)
	r.timeout = max(r.timeout, req.Timeout)
	r.first = r.first || req.First
	if !slices.Contains(r.jobs, req.Job) {
		r.jobs = append(r.jobs, req.Job)
	}
	c.ring()
	return r
}

// Run starts queued commands when their gathering window ends and nothing
// of the same command runs. When ctx ends, queued runs are dropped and Run
// returns once the running ones have finished: they keep their own timeout,
// so that a reload in flight is not cut in half by a graceful stop.
func (c *CommandRunner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if next, ok := c.startDue(ctx, &wg); ok {
			timer.Reset(time.Until(next))
		} else {
			timer.Stop()
		}
		select {
		case <-ctx.Done():
			c.stop()
			return nil
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// startDue starts every queued run that may start and returns when the
// next one may.
func (c *CommandRunner) startDue(ctx context.Context, wg *sync.WaitGroup) (next time.Time, ok bool) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.slots {
		r := s.queued
		if r == nil || s.running != nil {
			continue
		}
		start := r.gather.end
		if s.owners <= 1 && len(r.jobs) <= 1 && !r.first {
			start = now // nobody else could join
		}
		if s.holds > 0 {
			start = r.gather.deadline // or when the holds are released
		}
		if now.Before(start) {
			if !ok || start.Before(next) {
				next, ok = start, true
			}
			continue
		}
		s.queued, s.running = nil, r
		wg.Go(func() { c.execute(ctx, r) })
	}
	return next, ok
}

// execute runs r, records its outcome for each job it serves, and frees
// its slot.
func (c *CommandRunner) execute(ctx context.Context, r *CommandRun) {
	log := c.log.With("job", strings.Join(r.jobs, ","), "command", r.cmd.String())
	stdout := &lineLog{log: log, stream: "stdout"}
	stderr := &lineLog{log: log, stream: "stderr"}
	// A command runs to its end when the agent stops; the output of a
	// process it left in the background is read until then.
	res := process{cmd: r.cmd, env: r.env, timeout: r.timeout, stdout: stdout, stderr: stderr, drainCtx: ctx,
		late:    func(stream string) io.Writer { return &lineLog{log: log, stream: stream} },
		running: func(pid int) { c.started(r, pid) }}.run(context.WithoutCancel(ctx))
	stdout.flush()
	stderr.flush()

	if failed(res) {
		attrs := []any{"exit_code", res.ExitCode, "timed_out", res.TimedOut, "error", res.Error, "duration", res.Duration}
		for _, l := range []*lineLog{stderr, stdout} {
			if t := l.last(); t != "" {
				attrs = append(attrs, l.stream, t)
			}
		}
		log.Error("command failed", attrs...)
	} else {
		log.Info("command finished", "duration", res.Duration)
	}
	if c.metrics != nil {
		for _, j := range r.jobs {
			c.metrics.Commands.WithLabelValues(j, outcome(res)).Inc()
			c.metrics.CommandDuration.WithLabelValues(j).Observe(res.Duration.Seconds())
		}
	}

	c.mu.Lock()
	if s := c.slots[r.key]; s != nil {
		if s.running = nil; s.idle() {
			delete(c.slots, r.key)
		}
	}
	c.mu.Unlock()
	r.finish(res)
	c.ring()
}

// stop drops the queued runs and refuses new ones.
func (c *CommandRunner) stop() {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	for key, s := range c.slots {
		if r := s.queued; r != nil {
			s.queued = nil
			r.finish(jobs.CommandResult{Command: r.cmd.String(), At: now, ExitCode: -1,
				Error: "not run: the agent is stopping"})
		}
		if s.idle() {
			delete(c.slots, key)
		}
	}
}

// Kill sends SIGKILL to the process group of every command that runs, and
// of any that starts from now on, and drops the queued runs: the agent is
// exiting without waiting for them (a second stop signal) and must leave no
// process behind. Each command killed is logged.
func (c *CommandRunner) Kill() {
	c.stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killed = true
	for _, s := range c.slots {
		if r := s.running; r != nil && r.pid != 0 {
			c.kill(r)
		}
	}
}

// started records the pid of r's process (0: it has exited); a process
// that starts after Kill is killed at once.
func (c *CommandRunner) started(r *CommandRun, pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.pid = pid
	if pid != 0 && c.killed {
		c.kill(r)
	}
}

// kill kills r's process group (the group of a process that has just
// exited may be gone: nothing to kill); c.mu is held.
func (c *CommandRunner) kill(r *CommandRun) {
	err := syscall.Kill(-r.pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return
	}
	if err != nil {
		c.log.Error("could not kill a running command", "job", strings.Join(r.jobs, ","),
			"command", r.cmd.String(), "pid", r.pid, "err", err)
		return
	}
	c.log.Warn("killed a running command: drcon is exiting at once", "job", strings.Join(r.jobs, ","),
		"command", r.cmd.String(), "pid", r.pid)
}

func (c *CommandRunner) ring() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// commandKey identifies a command: what runs, and with which environment.
func commandKey(cmd config.Command, env []string) string {
	var b strings.Builder
	if cmd.Shell != "" {
		b.WriteString("sh\x00" + cmd.Shell)
	} else {
		b.WriteString("argv\x00" + strings.Join(cmd.Argv, "\x00"))
	}
	b.WriteString("\x00\x00" + strings.Join(env, "\x00"))
	return b.String()
}
