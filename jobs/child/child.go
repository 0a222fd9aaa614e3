// Package child supervises the one child process of consul-template's exec
// mode: it starts the process once the agent says every template has
// rendered, sends it the reload signal (or restarts it) when a template
// changes, passes on the signals the agent forwards, and stops it with the
// kill signal, then SIGKILL after the kill timeout. The process ending on
// its own ends Run with an *ExitError carrying its exit code.
package child

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/drcon/drcon/config"
)

// Options are what a Child needs besides its configuration.
type Options struct {
	// Env is the child's whole environment.
	Env    []string
	Logger *slog.Logger // nil discards
	// Stdin, Stdout and Stderr are the child's; nil means drcon's own, as
	// the child of exec mode is the program a container runs.
	Stdin          *os.File
	Stdout, Stderr *os.File
	// Acted, if set, is told of each "reload" and "restart", for metrics.
	Acted func(action string)
}

// ExitError is the child ending on its own: drcon exits with Code.
type ExitError struct {
	Command string
	// Code is the exit status, or 128 + the signal's number when a signal
	// ended the process, as a shell reports it.
	Code int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("exec: %s exited with code %d", e.Command, e.Code)
}

// Status is the child as /v1/status shows it.
type Status struct {
	Command  string    `json:"command"`
	PID      int       `json:"pid,omitempty"`
	Started  time.Time `json:"started,omitzero"`
	Restarts uint64    `json:"restarts,omitempty"`
	Reloads  uint64    `json:"reloads,omitempty"`
	// Waiting is true until every template has rendered.
	Waiting bool `json:"waiting,omitempty"`
}

// Child is one supervised process.
type Child struct {
	cfg     config.Exec
	o       Options
	log     *slog.Logger
	start   chan struct{}
	startMu sync.Once
	changes chan struct{}  // coalesced: a template wrote its file
	signals chan os.Signal // to pass on

	// splayFor picks the delay of a reload; tests fix it.
	splayFor func() time.Duration
	// heldSince is when the pending reload signal was first held back
	// because the process did not catch it yet; zero when none is. Run's.
	heldSince time.Time

	mu      sync.Mutex
	status  Status
	pending Action   // the strongest change since the last action; Follow: none
	current *process // the running process, for Kill
}

// New returns a child that Run starts once Start is called.
func New(cfg config.Exec, o Options) *Child {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	c := &Child{
		cfg: cfg, o: o, log: o.Logger.With("exec", cfg.Command.String()),
		start:   make(chan struct{}),
		changes: make(chan struct{}, 1),
		signals: make(chan os.Signal, 8),
		status:  Status{Command: cfg.Command.String(), Waiting: true},
	}
	c.splayFor = c.splay
	return c
}

// Start lets Run start the process; later calls do nothing.
func (c *Child) Start() { c.startMu.Do(func() { close(c.start) }) }

// Started reports whether Start has been called.
func (c *Child) Started() bool {
	select {
	case <-c.start:
		return true
	default:
		return false
	}
}

// Action is what a template's change does to the child.
type Action uint8

const (
	// Follow does what the exec block says: send the reload signal, or
	// restart the child when there is none.
	Follow Action = iota
	Reload
	Restart
)

// Changed tells the child that a template wrote its file: after the splay,
// it gets the reload signal or is restarted, as a says. Changes that meet
// in one splay make one action, a restart if any asked for one.
func (c *Child) Changed(a Action) {
	if a == Follow {
		a = Restart
		if c.cfg.ReloadSignal.Signal != 0 {
			a = Reload
		}
	}
	c.mu.Lock()
	c.pending = max(c.pending, a)
	c.mu.Unlock()
	select {
	case c.changes <- struct{}{}:
	default: // one is pending; it covers this one
	}
}

// Signal passes sig on to the process, if it runs; a burst beyond the
// buffer is dropped rather than block the agent.
func (c *Child) Signal(sig os.Signal) {
	if !c.Started() {
		c.log.Info("signal not passed on: the child has not started", "signal", sig.String())
		return
	}
	select {
	case c.signals <- sig:
	default:
		c.log.Warn("signal not passed on: too many pending", "signal", sig.String())
	}
}

// Kill sends SIGKILL to the running process at once: drcon is exiting
// without waiting (a second stop signal) and leaves no child behind.
func (c *Child) Kill() {
	c.mu.Lock()
	p := c.current
	c.mu.Unlock()
	if p != nil {
		p.signal(syscall.SIGKILL)
		c.log.Warn("killed the child: drcon is exiting at once", "pid", p.pid())
	}
}

// Status is a snapshot of the child's state.
func (c *Child) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Run waits for Start, then runs the process until ctx ends, when it stops
// the process and returns nil, or until the process ends on its own, when
// it returns an *ExitError. A process that cannot be started is an error
// too.
func (c *Child) Run(ctx context.Context) error {
	select {
	case <-c.start:
	case <-ctx.Done():
		return nil
	}
	p, err := c.spawn()
	if err != nil {
		return err
	}
	var due <-chan time.Time // the pending reload or restart, after the splay
	for {
		select {
		case <-ctx.Done():
			c.stop(p)
			return nil
		case <-p.exited:
			c.gone()
			return p.exitError()
		case sig := <-c.signals:
			if s, ok := sig.(syscall.Signal); ok {
				c.awaitReady(ctx, p, s, holdLimit)
			}
			p.signal(sig)
		case <-c.changes:
			if due != nil {
				continue // the pending action covers this change
			}
			if d := c.splayFor(); d > 0 {
				due = time.After(d)
				continue
			}
			if p, due, err = c.actOrHold(ctx, p); p == nil {
				return err
			}
		case <-due:
			if p, due, err = c.actOrHold(ctx, p); p == nil {
				return err
			}
		}
	}
}

// holdPoll is how often a held signal looks again whether the process is
// ready for it; holdLimit is how long a reload or passed-on signal is held
// at most (the kill signal: kill_timeout), after which it is sent anyway,
// as consul-template sends it: a program that never catches its reload
// signal is ended by it.
const (
	holdPoll  = 10 * time.Millisecond
	holdLimit = 30 * time.Second
)

// actOrHold does the pending action, unless that is the reload signal and
// the process does not catch it yet (it is still starting, or re-executing
// itself for the last reload): then it returns when to look again. Without
// this, a change in the first moments of a child's life, or two changes in
// a row, kill nginx or haproxy or leave them on the old file.
func (c *Child) actOrHold(ctx context.Context, p *process) (*process, <-chan time.Time, error) {
	if wait := c.hold(p); wait > 0 {
		return p, time.After(wait), nil
	}
	p, err := c.act(ctx, p)
	return p, nil, err
}

// hold is how long to wait before the pending action: zero, or holdPoll
// while the reload signal would reach a process that does not catch it. A
// shell's process group is not looked at: the signal is for its members.
func (c *Child) hold(p *process) time.Duration {
	c.mu.Lock()
	action := c.pending
	c.mu.Unlock()
	sig := c.cfg.ReloadSignal
	if action != Reload || p.group || p.readyFor(sig.Signal) {
		if !c.heldSince.IsZero() && action == Reload {
			c.log.Info("the child catches the reload signal now", "signal", sig.Name, "pid", p.pid(),
				"held", time.Since(c.heldSince).Round(time.Millisecond).String())
		}
		c.heldSince = time.Time{}
		return 0
	}
	if c.heldSince.IsZero() {
		c.heldSince = time.Now()
		c.log.Info("holding the reload signal: the child does not catch it yet", "signal", sig.Name, "pid", p.pid())
	}
	if time.Since(c.heldSince) >= holdLimit {
		c.log.Warn("the child has not caught the reload signal in time: sending it anyway", "signal", sig.Name,
			"pid", p.pid(), "held", holdLimit.String())
		c.heldSince = time.Time{}
		return 0
	}
	return holdPoll
}

// act does the pending action to p: the reload signal, or a restart, whose
// new process it returns. A nil process ends Run, with the error if any.
func (c *Child) act(ctx context.Context, p *process) (*process, error) {
	c.mu.Lock()
	action := c.pending
	c.pending = Follow
	c.mu.Unlock()
	switch action {
	case Follow:
		return p, nil
	case Reload:
		c.log.Info("template changed: signalling the child", "signal", c.cfg.ReloadSignal.Name, "pid", p.pid())
		p.signal(c.cfg.ReloadSignal.Signal)
		p.reloaded = time.Now()
		c.update(func(s *Status) { s.Reloads++ })
		c.acted("reload")
		return p, nil
	}
	c.log.Info("template changed: restarting the child", "pid", p.pid())
	c.stop(p)
	if ctx.Err() != nil {
		return nil, nil // stopped while the old one was stopping
	}
	next, err := c.spawn()
	if err != nil {
		return nil, err
	}
	c.update(func(s *Status) { s.Restarts++ })
	c.acted("restart")
	return next, nil
}

func (c *Child) acted(action string) {
	if c.o.Acted != nil {
		c.o.Acted(action)
	}
}

// splay is a random delay up to the configured splay.
func (c *Child) splay() time.Duration {
	if c.cfg.Splay <= 0 {
		return 0
	}
	return rand.N(c.cfg.Splay)
}

func (c *Child) update(f func(*Status)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.status)
}

// spawn starts the process.
func (c *Child) spawn() (*process, error) {
	p, err := startProcess(c.cfg.Command, c.o)
	if err != nil {
		return nil, fmt.Errorf("exec: start %s: %w", c.cfg.Command.String(), err)
	}
	c.log.Info("child started", "pid", p.pid())
	c.mu.Lock()
	c.status.PID, c.status.Started, c.status.Waiting = p.pid(), time.Now(), false
	c.current = p
	c.mu.Unlock()
	return p, nil
}

// stop sends the kill signal, once the child is ready for it if it handles
// it (awaitReady), waits up to the kill timeout in all, then kills.
func (c *Child) stop(p *process) {
	start := time.Now()
	c.awaitReady(context.Background(), p, c.cfg.KillSignal.Signal, c.cfg.KillTimeout)
	p.signal(c.cfg.KillSignal.Signal)
	timer := time.NewTimer(max(0, c.cfg.KillTimeout-time.Since(start)))
	defer timer.Stop()
	select {
	case <-p.exited:
		c.log.Info("child stopped", "pid", p.pid(), "code", p.code())
	case <-timer.C:
		c.log.Warn("child did not stop in time: killing it", "pid", p.pid(), "kill_timeout", c.cfg.KillTimeout.String())
		p.signal(syscall.SIGKILL)
		<-p.exited
	}
	c.gone()
}

// gone records that no process runs.
func (c *Child) gone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status.PID, c.current = 0, nil
}

// process is one run of the child.
type process struct {
	cmd     *exec.Cmd
	command string
	group   bool          // signals go to its process group (a shell's)
	exited  chan struct{} // closed once Wait returned
	err     error         // Wait's, once exited is closed
	// seen are the signals it was ever seen ready for (readyFor), and
	// reloaded when it was last sent the reload signal; Run's.
	seen     uint64
	reloaded time.Time
}

func startProcess(c config.Command, o Options) (*process, error) {
	args := c.Argv
	group := false
	if c.Shell != "" {
		// As in consul-template, a shell command runs in its own process
		// group and signals go to the group; one simple command replaces
		// the shell (shellArgs).
		args, group = shellArgs(c.Shell), true
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = o.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, command: c.String(), group: group, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// signal sends sig to the process (or its group); one that has exited is
// left alone.
func (p *process) signal(sig os.Signal) {
	select {
	case <-p.exited:
		return
	default:
	}
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	pid := p.pid()
	if p.group {
		pid = -pid
	}
	_ = syscall.Kill(pid, s)
}

// code is the exit code of an exited process, 128+N for signal N.
func (p *process) code() int {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *process) exitError() error {
	var exit *exec.ExitError
	if p.err != nil && !errors.As(p.err, &exit) {
		return fmt.Errorf("exec: wait for %s: %w", p.command, p.err)
	}
	return &ExitError{Command: p.command, Code: p.code()}
}
