package child

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
)

// script is a child that records its life in dir/log: "start PID", one
// line per signal it catches, and "exit" when SIGINT stops it with code 3.
// It logs its start once its traps are set: a signal sent after the start
// is logged is caught, not the default action that ends the shell.
const script = `
trap 'echo "hup $$" >> "$LOG"' HUP
trap 'echo "usr1 $$" >> "$LOG"' USR1
trap 'echo "int $$" >> "$LOG"; exit 3' INT
trap '' TERM
echo "start $$" >> "$LOG"
while :; do sleep 0.05; done
`

func newTestChild(t *testing.T, e config.Exec) (*Child, string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	if e.Command.Empty() {
		e.Command = config.Command{Argv: []string{"/bin/sh", "-c", script}}
	}
	if e.KillSignal.Signal == 0 {
		e.KillSignal = config.Signal{Name: "SIGINT", Signal: syscall.SIGINT}
	}
	if e.KillTimeout == 0 {
		e.KillTimeout = 5 * time.Second
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	return New(e, Options{Env: []string{"LOG=" + log, "PATH=" + os.Getenv("PATH")}, Stdin: devnull}), log
}

// run runs c until the test ends and returns how Run ended.
func run(t *testing.T, c *Child) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			cancel()
			err, stopped = <-done, true
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Fields(strings.ReplaceAll(string(b), "\n", ";"))
}

// waitLimit is generous: a loaded 2-core machine running -race starts a
// shell slowly.
const waitLimit = 30 * time.Second

// waitLog waits until the log holds want (each "event pid" joined by ";").
func waitLog(t *testing.T, path string, want func(log string) bool) string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		b, _ := os.ReadFile(path)
		if want(string(b)) {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("log of the child: %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits until c's status satisfies want. The child logs its
// start as soon as it runs, which can be before Run has recorded it in the
// status (its PID, a restart).
func waitStatus(t *testing.T, c *Child, what string, want func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		st := c.Status()
		if want(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: status %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStarted waits until the log holds n starts and the status names the
// process of the last one (so that Kill and the signals reach it), and
// returns the log.
func waitStarted(t *testing.T, c *Child, path string, n int) string {
	t.Helper()
	log := waitLog(t, path, func(s string) bool { return count(s, "start") == n })
	last := ""
	for l := range strings.SplitSeq(log, "\n") {
		if pid, ok := strings.CutPrefix(l, "start "); ok {
			last = pid
		}
	}
	waitStatus(t, c, "the status to name the child "+last, func(st Status) bool { return strconv.Itoa(st.PID) == last })
	return log
}

func count(s, sub string) int { return strings.Count(s, sub) }

func TestStartsOnlyWhenAsked(t *testing.T) {
	c, log := newTestChild(t, config.Exec{})
	run(t, c)
	time.Sleep(200 * time.Millisecond)
	if got := lines(t, log); len(got) != 0 || !c.Status().Waiting {
		t.Fatalf("started before Start: %v, %+v", got, c.Status())
	}
	c.Start()
	c.Start()
	waitStarted(t, c, log, 1)
	if st := c.Status(); st.PID == 0 || st.Waiting {
		t.Fatalf("status %+v", st)
	}
}

func TestChangeSendsTheReloadSignal(t *testing.T) {
	c, log := newTestChild(t, config.Exec{ReloadSignal: config.Signal{Name: "SIGHUP", Signal: syscall.SIGHUP}})
	stop := run(t, c)
	c.Start()
	waitLog(t, log, func(s string) bool { return count(s, "start") == 1 })
	c.Changed(Follow)
	s := waitLog(t, log, func(s string) bool { return count(s, "hup") == 1 })
	// The child can log the signal before Run counts the reload.
	waitStatus(t, c, "the reload counted", func(st Status) bool { return st.Reloads >= 1 })
	if count(s, "start") != 1 || c.Status().Reloads != 1 {
		t.Fatalf("log %q, status %+v", s, c.Status())
	}
	c.Signal(syscall.SIGUSR1)
	waitLog(t, log, func(s string) bool { return count(s, "usr1") == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run after stop: %v", err)
	}
	waitLog(t, log, func(s string) bool { return count(s, "int") == 1 })
}

func TestChangeRestartsWithoutReloadSignal(t *testing.T) {
	c, log := newTestChild(t, config.Exec{})
	run(t, c)
	c.Start()
	first := waitStarted(t, c, log, 1)
	c.Changed(Follow)
	s := waitStarted(t, c, log, 2)
	// Run counts the restart once it has recorded the new process.
	waitStatus(t, c, "the restart counted", func(st Status) bool { return st.Restarts >= 1 })
	pid1 := strings.Fields(first)[1]
	if !strings.Contains(s, "int "+pid1) || c.Status().Restarts != 1 || strconv.Itoa(c.Status().PID) == pid1 {
		t.Fatalf("log %q, status %+v: want the first child stopped by SIGINT and a second one", s, c.Status())
	}
}

// Changes during the splay make one reload.
func TestSplayCoalesces(t *testing.T) {
	// Long enough for a loaded machine to make the five changes in it.
	const splay = 2 * time.Second
	c, log := newTestChild(t, config.Exec{ReloadSignal: config.Signal{Name: "SIGHUP", Signal: syscall.SIGHUP},
		Splay: splay})
	c.splayFor = func() time.Duration { return splay } // the longest
	run(t, c)
	c.Start()
	waitLog(t, log, func(s string) bool { return count(s, "start") == 1 })
	for range 5 {
		c.Changed(Follow)
		for len(c.changes) > 0 { // until Run has taken it: one change each
			time.Sleep(time.Millisecond)
		}
	}
	waitLog(t, log, func(s string) bool { return count(s, "hup") == 1 })
	time.Sleep(500 * time.Millisecond)
	if s, _ := os.ReadFile(log); count(string(s), "hup") != 1 {
		t.Fatalf("five changes in one splay: %q", s)
	}
}

func TestKillTimeoutKills(t *testing.T) {
	// The child ignores SIGTERM, the kill signal here.
	c, log := newTestChild(t, config.Exec{KillSignal: config.Signal{Name: "SIGTERM", Signal: syscall.SIGTERM},
		KillTimeout: 200 * time.Millisecond})
	stop := run(t, c)
	c.Start()
	waitStarted(t, c, log, 1)
	pid := c.Status().PID
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("child %d still runs after Run returned (%s)", pid, time.Since(start))
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		cmd  config.Command
		code int
	}{
		{config.Command{Shell: "exit 7"}, 7},
		{config.Command{Argv: []string{"/bin/true"}}, 0},
		{config.Command{Shell: "kill -TERM $$"}, 128 + int(syscall.SIGTERM)},
	} {
		t.Run(tc.cmd.String(), func(t *testing.T) {
			c, _ := newTestChild(t, config.Exec{Command: tc.cmd})
			c.Start()
			err := c.Run(context.Background())
			var exit *ExitError
			if !errors.As(err, &exit) || exit.Code != tc.code {
				t.Fatalf("Run: %v, want exit code %d", err, tc.code)
			}
			if st := c.Status(); st.PID != 0 {
				t.Fatalf("status after the exit: %+v", st)
			}
		})
	}
}

func TestStartFailure(t *testing.T) {
	c, _ := newTestChild(t, config.Exec{Command: config.Command{Argv: []string{"/nonexistent/app"}}})
	c.Start()
	err := c.Run(context.Background())
	var exit *ExitError
	if err == nil || errors.As(err, &exit) || !strings.Contains(err.Error(), "exec: start /nonexistent/app") {
		t.Fatalf("Run: %v", err)
	}
}

// A restart asked for in the same splay as a reload wins over it.
func TestRestartWinsOverReload(t *testing.T) {
	c, log := newTestChild(t, config.Exec{ReloadSignal: config.Signal{Name: "SIGHUP", Signal: syscall.SIGHUP},
		Splay: 300 * time.Millisecond})
	c.splayFor = func() time.Duration { return 300 * time.Millisecond }
	run(t, c)
	c.Start()
	waitLog(t, log, func(s string) bool { return count(s, "start") == 1 })
	c.Changed(Reload)
	c.Changed(Restart)
	c.Changed(Follow)
	waitLog(t, log, func(s string) bool { return count(s, "start") == 2 })
	time.Sleep(400 * time.Millisecond)
	if s, _ := os.ReadFile(log); count(string(s), "hup") != 0 || count(string(s), "start") != 2 {
		t.Fatalf("want one restart and no reload: %q", s)
	}
}

func TestKill(t *testing.T) {
	// The child ignores SIGTERM, the kill signal here, for longer than
	// the test waits.
	c, log := newTestChild(t, config.Exec{KillSignal: config.Signal{Name: "SIGTERM", Signal: syscall.SIGTERM},
		KillTimeout: time.Minute})
	stop := run(t, c)
	c.Start()
	waitStarted(t, c, log, 1) // Kill finds the process
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	c.Kill()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Kill did not end the child")
	}
}

// A shell command runs in its own process group, which the reload signal
// goes to: the program must get it, and the shell that started it must not
// die of it (Debian's dash does not exec a last command).
func TestShellCommandGetsTheSignal(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "app.sh")
	if err := os.WriteFile(script, []byte(script0), 0o755); err != nil {
		t.Fatal(err)
	}
	c, log := newTestChild(t, config.Exec{Command: config.Command{Shell: "/bin/sh " + script + " --flag"},
		ReloadSignal: config.Signal{Name: "SIGHUP", Signal: syscall.SIGHUP}})
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- c.Run(ctx) }()
	c.Start()
	waitLog(t, log, func(s string) bool { return count(s, "start") == 1 })
	c.Changed(Follow)
	waitLog(t, log, func(s string) bool { return count(s, "hup") == 1 })
	select {
	case err := <-done:
		t.Fatalf("the child ended on the reload signal: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// script0 is script as a file's content.
const script0 = "#!/bin/sh\n" + script

// A change that comes before the child catches its reload signal (nginx or
// haproxy still starting, or haproxy's master re-executing itself for the
// last reload) holds the signal until the child catches it: sent at once,
// the signal's default action would end the child.
func TestReloadSignalWaitsForTheHandler(t *testing.T) {
	const lateTrap = `
trap 'echo "int $$" >> "$LOG"; exit 3' INT
echo "start $$" >> "$LOG"
sleep 0.5
trap 'echo "usr2 $$" >> "$LOG"' USR2
echo "ready $$" >> "$LOG"
while :; do sleep 0.05; done
`
	c, log := newTestChild(t, config.Exec{Command: config.Command{Argv: []string{"/bin/sh", "-c", lateTrap}},
		ReloadSignal: config.Signal{Name: "SIGUSR2", Signal: syscall.SIGUSR2}})
	stop := run(t, c)
	c.Start()
	waitStarted(t, c, log, 1)
	c.Changed(Follow)
	s := waitLog(t, log, func(s string) bool { return count(s, "usr2") == 1 })
	if !strings.Contains(s, "ready") || strings.Index(s, "ready") > strings.Index(s, "usr2") {
		t.Fatalf("log %q: want the signal after the trap is set", s)
	}
	waitStatus(t, c, "the reload counted", func(st Status) bool { return st.Reloads == 1 })
	if err := stop(); err != nil {
		t.Fatalf("Run after stop: %v (the reload signal ended the child?)", err)
	}
}

// A child that handles a signal but ignores it for a moment, as haproxy's
// master does while it re-executes itself for a reload, gets a passed-on
// signal and the kill signal once it handles them again: sent at once, the
// passed-on signal would be lost, and the stop would wait for the kill
// timeout and end in SIGKILL.
func TestSignalsWaitWhileTheChildReloads(t *testing.T) {
	const reexec = `
on_usr2() {
	trap '' USR1 INT
	echo "reloading $$" >> "$LOG"
	sleep 0.5
	trap 'echo "usr1 $$" >> "$LOG"' USR1
	trap 'echo "int $$" >> "$LOG"; exit 3' INT
	echo "reloaded $$" >> "$LOG"
}
trap on_usr2 USR2
trap 'echo "usr1 $$" >> "$LOG"' USR1
trap 'echo "int $$" >> "$LOG"; exit 3' INT
echo "start $$" >> "$LOG"
while :; do sleep 0.05; done
`
	c, log := newTestChild(t, config.Exec{Command: config.Command{Argv: []string{"/bin/sh", "-c", reexec}},
		ReloadSignal: config.Signal{Name: "SIGUSR2", Signal: syscall.SIGUSR2}, KillTimeout: 20 * time.Second})
	stop := run(t, c)
	c.Start()
	waitStarted(t, c, log, 1)
	c.Changed(Follow)
	waitLog(t, log, func(s string) bool { return strings.Contains(s, "reloading") })
	c.Signal(syscall.SIGUSR1)
	s := waitLog(t, log, func(s string) bool { return strings.Contains(s, "usr1") })
	if strings.Index(s, "reloaded") > strings.Index(s, "usr1") {
		t.Fatalf("log %q: want SIGUSR1 once the trap is back", s)
	}

	c.Changed(Follow)
	waitLog(t, log, func(s string) bool { return count(s, "reloading") == 2 })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("Run after stop: %v", err)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "reloaded") || !strings.Contains(string(b), "int ") {
		t.Fatalf("log %q: want the kill signal caught once the trap is back, not SIGKILL after %s", b, time.Since(start))
	}
}
