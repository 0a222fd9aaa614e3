package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

// Options.Env reaches the template's env function and the command, whose
// output is logged line by line under the job's name.
func TestCommandEnvironmentAndOutput(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }} {{ env "FOO" }}`)
	cfg.Command = config.Command{Shell: `echo "out $FOO"; echo "err line" >&2; printf 'no newline'`}
	var l logs
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &l), Env: []string{"FOO=bar"}})
	startJob(t, j)
	eventually(t, "the command", func() bool { return j.Status().Command != nil })
	if got := content(cfg.Destination); got != "v bar" {
		t.Errorf("destination %q, want the template to see FOO", got)
	}
	got := map[string]string{}
	for _, r := range l.find("command output") {
		if attr(r, "job") != "web" || attr(r, "command") != cfg.Command.Shell {
			t.Errorf("output logged without the job's name and command: job=%q", attr(r, "job"))
		}
		got[attr(r, "line")] = attr(r, "stream")
	}
	want := map[string]string{"out bar": "stdout", "err line": "stderr", "no newline": "stdout"}
	if len(got) != len(want) {
		t.Errorf("logged lines %v, want %v", got, want)
	}
	for line, stream := range want {
		if got[line] != stream {
			t.Errorf("line %q on %q, want %q", line, got[line], stream)
		}
	}
}

func TestLineLogBoundsLines(t *testing.T) {
	var l logs
	w := &lineLog{log: l.logger(), stream: "stdout"}
	long := strings.Repeat("x", 3*maxLine)
	for _, chunk := range []string{long[:maxLine-10], long[maxLine-10:], "\nnext", "\n", "\n", "tail"} {
		w.Write([]byte(chunk))
	}
	w.flush()
	r := l.find("command output")
	if len(r) != 3 {
		t.Fatalf("%d lines logged, want 3", len(r))
	}
	if len(attr(r[0], "line")) != maxLine || attr(r[0], "truncated") != "true" {
		t.Errorf("a long line is logged cut to %d bytes and marked", maxLine)
	}
	if attr(r[1], "line") != "next" || attr(r[2], "line") != "tail" {
		t.Errorf("lines %q %q", attr(r[1], "line"), attr(r[2], "line"))
	}
}

// A failed command is reported, and the next render runs it again even when
// the file did not change: the reload is owed.
func TestCommandFailureIsRetried(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	store.SetKey("noise", "0")
	cfg := newConfig(t, "web", `{{ key "k" }}{{ key "noise" | printf "%.0s" }}`)
	dir := t.TempDir()
	marker, runs := filepath.Join(dir, "marker"), filepath.Join(dir, "runs")
	cfg.Command = config.Command{Shell: "test -e " + marker + " || exit 3; echo ok >>" + runs}
	m := newMetrics()
	var l logs
	runner := NewCommandRunner(CommandRunnerOptions{Logger: l.logger(), Metrics: m})
	background(t, runner.Run)
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: runner, Metrics: m, Logger: l.logger()})
	startJob(t, j)
	eventually(t, "the failure", func() bool { return j.Status().Command != nil })
	s := j.Status()
	if s.Command.ExitCode != 3 || s.Command.Error != "" || !strings.Contains(s.LastError, "exit code 3") || s.State != StateError {
		t.Errorf("status %+v, command %+v", s, s.Command)
	}
	if got := value(t, m.Commands.WithLabelValues("web", "failed")); got != 1 {
		t.Errorf("failed commands metric %v", got)
	}
	if r := l.find("command failed"); len(r) != 1 || attr(r[0], "exit_code") != "3" {
		t.Errorf("want one log of the failure with its exit code")
	}

	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	store.SetKey("noise", "1") // the output stays the same
	eventually(t, "the retry", func() bool { return len(lines(runs)) == 1 })
	eventually(t, "the status", func() bool { c := j.Status().Command; return c != nil && c.ExitCode == 0 })
	if s := j.Status(); s.Writes != 1 || s.LastError != "" {
		t.Errorf("status %+v: the retry needs no write, and clears the error", s)
	}
	if got := value(t, m.Commands.WithLabelValues("web", "ok")); got != 1 {
		t.Errorf("ok commands metric %v", got)
	}
}

// A command that starts a process in the background, as `app &` does,
// finishes when its shell exits; the background process keeps running and
// its later output is still logged (consul-template hands it its own
// stdout). Closing the output pipe instead would kill it with SIGPIPE at
// its next line.
func TestCommandLeavesABackgroundProcess(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	dir := t.TempDir()
	marker, gate := filepath.Join(dir, "marker"), filepath.Join(dir, "gate")
	// The background process goes on only once the test has seen the
	// command done.
	cfg.Command = config.Command{Shell: "echo started; (while [ ! -e " + gate + " ]; do sleep 0.01; done; echo late; echo survived > " +
		marker + ") &"}
	var l logs
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &l)})
	startJob(t, j)
	eventually(t, "the command", func() bool { return j.Status().Command != nil })
	if c := j.Status().Command; c.ExitCode != 0 || content(marker) != "" {
		t.Errorf("command %+v: want it done before its background process", c)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the background process's file", func() bool { return content(marker) == "survived\n" })
	eventually(t, "its late line logged", func() bool {
		for _, r := range l.find("command output") {
			if attr(r, "line") == "late" && attr(r, "job") == "web" {
				return true
			}
		}
		return false
	})
}

// A failed command is logged with the last lines of its output, at error
// level: with log_level = "warn" nothing else would say why it failed.
func TestCommandFailureLogsItsOutput(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	cfg.Command = config.Command{Shell: "for i in $(seq 1 12); do echo out$i; done; echo 'bad config' >&2; exit 2"}
	var l logs
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &l)})
	startJob(t, j)
	eventually(t, "the failure", func() bool { return len(l.find("command failed")) == 1 })
	r := l.find("command failed")[0]
	if r.Level != slog.LevelError || attr(r, "stderr") != "bad config" || !strings.HasPrefix(attr(r, "stdout"), "out3\n") ||
		!strings.HasSuffix(attr(r, "stdout"), "\nout12") {
		t.Errorf("failure logged at %v with stderr %q, stdout %q", r.Level, attr(r, "stderr"), attr(r, "stdout"))
	}
}

// alive reports whether a process exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

// On timeout the whole process group dies, the shell's children too.
func TestCommandTimeoutKillsTheGroup(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	pidfile := filepath.Join(t.TempDir(), "pid")
	cfg.Command = config.Command{Shell: "sleep 60 & echo $! >" + pidfile + "; wait"}
	cfg.CommandTimeout = 2 * time.Second
	m := newMetrics()
	runner := NewCommandRunner(CommandRunnerOptions{Metrics: m})
	background(t, runner.Run)
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: runner})
	startJob(t, j)
	eventually(t, "the timeout", func() bool { return j.Status().Command != nil })
	if c := j.Status().Command; !c.TimedOut || c.ExitCode != -1 || !strings.Contains(c.Error, "timed out after 2s") {
		t.Errorf("command %+v", c)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the shell's child to die", func() bool { return !alive(pid) })
	if got := value(t, m.Commands.WithLabelValues("web", "timeout")); got != 1 {
		t.Errorf("timeout metric %v", got)
	}
}

func TestOnCommandFailureExit(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	cfg.Command = config.Command{Argv: []string{"false"}}
	cfg.OnCommandFailure = "exit"
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &logs{})})
	err := <-startJob(t, j)
	if !errors.Is(err, ErrExitRequested) || !strings.Contains(err.Error(), `render job "web"`) ||
		!strings.Contains(err.Error(), "exit code 1") {
		t.Errorf("Run returned %v, want ErrExitRequested naming the job and the exit code", err)
	}
}

// TestErrorFatal: with error_fatal a template that fails to execute ends
// the daemon job, as it stops consul-template; without it the job keeps
// its last output and renders again when the data is mended.
func TestErrorFatal(t *testing.T) {
	for _, fatal := range []bool{true, false} {
		store := rendertest.NewStore()
		store.SetKey("k", `{"a":1}`)
		cfg := newConfig(t, "web", `{{ with key "k" | parseJSON }}{{ .a }}{{ end }}`)
		cfg.ErrorFatal = fatal
		j := mustNew(t, cfg, store.Subscribe(), Options{})
		done := startJob(t, j)
		eventually(t, "the first render", func() bool { return j.Status().Ready })
		store.SetKey("k", "not json")
		if fatal {
			err := <-done
			if !errors.Is(err, ErrTemplateFatal) || !strings.Contains(err.Error(), `render job "web"`) {
				t.Errorf("Run returned %v, want ErrTemplateFatal naming the job", err)
			}
			continue
		}
		eventually(t, "the error in the status", func() bool { return j.Status().State == StateError })
		store.SetKey("k", `{"a":2}`)
		eventually(t, "the render after the mend", func() bool {
			b, _ := os.ReadFile(cfg.Destination)
			return string(b) == "2"
		})
		select {
		case err := <-done:
			t.Fatalf("Run returned %v without error_fatal", err)
		default:
		}
	}
}

// gate is a command that records its start and end and blocks until a
// file exists: a way to hold a run open.
func gate(t *testing.T) (cmd config.Command, log, open string) {
	dir := t.TempDir()
	log, open = filepath.Join(dir, "log"), filepath.Join(dir, "open")
	return config.Command{Shell: "echo start >>" + log + "; while [ ! -e " + open + " ]; do sleep 0.01; done; echo end >>" + log}, log, open
}

// A request while the command runs queues exactly one more run, which all
// later requests join; runs of one command never overlap.
func TestRunnerOneRunAtATime(t *testing.T) {
	cmd, log, open := gate(t)
	runner := startRunner(t, &logs{})
	first := runner.Request(CommandRequest{Job: "a", Command: cmd})
	eventually(t, "the first run", func() bool { return len(lines(log)) == 1 })
	var more []*CommandRun
	for _, job := range []string{"a", "b", "c", "b"} {
		more = append(more, runner.Request(CommandRequest{Job: job, Command: cmd}))
	}
	for _, r := range more[1:] {
		if r != more[0] {
			t.Fatal("requests while the command runs must join one queued run")
		}
	}
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	<-first.Done()
	<-more[0].Done()
	if got := strings.Join(lines(log), " "); got != "start end start end" {
		t.Errorf("runs %q, want two runs one after the other", got)
	}
	if got := strings.Join(more[0].jobs, ","); got != "a,b,c" {
		t.Errorf("the queued run serves %s, want a,b,c", got)
	}
}

// Different commands do not wait for each other; a stop lets the running
// command finish, drops the queued one, and refuses new requests.
func TestRunnerStop(t *testing.T) {
	cmd, log, open := gate(t)
	runner := NewCommandRunner(CommandRunnerOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- runner.Run(ctx) }()

	running := runner.Request(CommandRequest{Job: "a", Command: cmd})
	eventually(t, "the run", func() bool { return len(lines(log)) == 1 })
	other := runner.Request(CommandRequest{Job: "b", Command: config.Command{Argv: []string{"true"}}})
	<-other.Done()
	queued := runner.Request(CommandRequest{Job: "a", Command: cmd})

	cancel()
	<-queued.Done()
	if r := queued.Result(); !strings.Contains(r.Error, "not run") {
		t.Errorf("queued run: %+v, want dropped", r)
	}
	select {
	case <-stopped:
		t.Fatal("Run returned while a command was running")
	case <-running.Done():
		t.Fatal("the running command was cut short")
	default:
	}
	if err := os.WriteFile(open, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if r := running.Result(); failed(r) {
		t.Errorf("running command: %+v", r)
	}
	late := runner.Request(CommandRequest{Job: "a", Command: cmd})
	<-late.Done()
	if !strings.Contains(late.Result().Error, "not run") || len(lines(log)) != 2 {
		t.Errorf("a request after the stop ran: %+v", late.Result())
	}
}

// Kill kills the process group of a running command, a shell's children
// too, logs it, and drops the queued run.
func TestRunnerKill(t *testing.T) {
	dir := t.TempDir()
	pidfile, log := filepath.Join(dir, "pid"), filepath.Join(dir, "log")
	cmd := config.Command{Shell: "sleep 60 & echo $! >" + pidfile + "; echo start >>" + log + "; wait"}
	l := &logs{}
	runner := startRunner(t, l)
	running := runner.Request(CommandRequest{Job: "a", Command: cmd})
	eventually(t, "the run", func() bool { return len(lines(log)) == 1 })
	queued := runner.Request(CommandRequest{Job: "b", Command: cmd})
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}

	runner.Kill()
	eventually(t, "the shell's child to die", func() bool { return !alive(pid) })
	<-running.Done()
	if r := running.Result(); r.ExitCode != -1 || !strings.Contains(r.Error, "killed") {
		t.Errorf("killed run: %+v", r)
	}
	<-queued.Done()
	if r := queued.Result(); !strings.Contains(r.Error, "not run") || len(lines(log)) != 1 {
		t.Errorf("queued run: %+v, want dropped", r)
	}
	killed := l.find("killed a running command: drcon is exiting at once")
	if len(killed) != 1 || attr(killed[0], "job") != "a" || attr(killed[0], "command") != cmd.String() {
		t.Errorf("the kill is not logged with the job and the command: %v", killed)
	}
}

// A command only one job has starts at once; one that several jobs have
// waits for the gather window, so that they can join it. In a synctest
// bubble, so that the 5 ms window cannot pass between two lines on a busy
// machine.
func TestRunnerGathersOnlyShared(t *testing.T) {
	synctest.Test(t, runnerGathersOnlyShared)
}

func runnerGathersOnlyShared(t *testing.T) {
	c := NewCommandRunner(CommandRunnerOptions{})
	cmd := config.Command{Argv: []string{"true"}}
	release := c.own(cmd, nil)
	r := c.Request(CommandRequest{Job: "a", Command: cmd, Timeout: 10 * time.Second})
	var wg sync.WaitGroup
	if _, waiting := c.startDue(context.Background(), &wg); waiting {
		t.Fatal("a command with one owner waits to gather")
	}
	wg.Wait()
	<-r.Done()

	defer release()
	defer c.own(cmd, nil)()
	r = c.Request(CommandRequest{Job: "a", Command: cmd, Timeout: 10 * time.Second})
	if _, waiting := c.startDue(context.Background(), &wg); !waiting {
		t.Fatal("a command two jobs have starts before the gather window ends")
	}
	time.Sleep(gatherQuiet)
	c.startDue(context.Background(), &wg)
	wg.Wait()
	<-r.Done()
}

// A change while the job's command runs is not written until the command
// has run: a command that reads the destination twice (nginx -t, then a
// reload) reads the same file both times. The latest render is written
// after it, and the command runs again.
func TestNoWriteWhileTheCommandRuns(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "0")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	log := filepath.Join(t.TempDir(), "log")
	started, release := log+".started", log+".release"
	// The command runs until the test releases it, after the changes.
	cfg.Command = config.Command{Shell: fmt.Sprintf(`echo "start=$(cat %[1]s)" >> %[2]s; touch %[3]s; `+
		`while [ ! -e %[4]s ]; do sleep 0.01; done; echo "end=$(cat %[1]s)" >> %[2]s`, cfg.Destination, log, started, release)}
	var l logs
	sub := store.Subscribe()
	j := mustNew(t, cfg, sub, Options{Commands: startRunner(t, &l)})
	startJob(t, j)
	eventually(t, "the command to start", func() bool { _, err := os.Stat(started); return err == nil })
	for _, v := range []string{"1", "2", "3"} {
		store.SetKey("k", v)
		eventually(t, "the job to take the change "+v, func() bool { return len(sub.Changed()) == 0 })
	}
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the command to run again", func() bool { return len(lines(log)) >= 4 })
	if got, want := strings.Join(lines(log), ","), "start=0,end=0,start=3,end=3"; got != want {
		t.Errorf("the command read %s, want %s", got, want)
	}
	if s := j.Status(); s.Writes != 2 {
		t.Errorf("%d writes, want 2: the first render and the latest after the command", s.Writes)
	}
}
