package agent

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// slowCommand is a job whose command writes its process group's id, logs
// its start, sleeps and logs its end; its template needs no Consul.
func slowCommand(sleep string) string {
	return fmt.Sprintf(`pid_file = "$DIR/drcon.pid"
template "slow" {
  contents        = "slow"
  destination     = "$DIR/slow.out"
  command         = "echo $$ > $DIR/cmd.pid; echo start >> $DIR/cmd.log; sleep %s; echo end >> $DIR/cmd.log"
  command_timeout = "1m"
}
`, sleep)
}

// TestGracefulStop: the stop signals (SIGTERM, and kill_signal, SIGINT by
// default) let a running command finish, exit 0 and remove the pid file.
func TestGracefulStop(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			d := newDrcon(t)
			d.write(slowCommand("2"))
			killGroupFromFile(t, d.path("cmd.pid"))
			d.start()
			pid, err := os.ReadFile(d.path("drcon.pid"))
			if err != nil || strings.TrimSpace(string(pid)) != fmt.Sprint(d.pid()) {
				t.Fatalf("pid file %q (%v), want %d", pid, err, d.pid())
			}
			testenv.WaitFor(t, waitLimit, "the command's start", func() bool { return d.read("cmd.log") == "start\n" })
			d.signal(sig)
			if code := d.exitCode(); code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			if got := d.read("cmd.log"); got != "start\nend\n" {
				t.Fatalf("the command did not finish before drcon exited: %q", got)
			}
			if _, err := os.Stat(d.path("drcon.pid")); !os.IsNotExist(err) {
				t.Fatalf("pid file left: %v", err)
			}
		})
	}
}

// TestSecondSignal: a second stop signal during a graceful stop exits at
// once with code 1, without waiting for the command, which it kills and
// says so; a reload signal meanwhile changes nothing.
func TestSecondSignal(t *testing.T) {
	d := newDrcon(t)
	d.write(slowCommand("60"))
	killGroupFromFile(t, d.path("cmd.pid"))
	d.start()
	testenv.WaitFor(t, waitLimit, "the command's start", func() bool { return d.read("cmd.log") == "start\n" })
	d.signal(syscall.SIGTERM)
	testenv.WaitFor(t, waitLimit, "the graceful stop", func() bool { return d.countLog("msg=stopping") == 1 })
	d.signal(syscall.SIGHUP)
	// Sent together, the two can reach drcon in either order, and the
	// reload signal after the forced exit has begun would end the
	// process with that signal's default action.
	testenv.WaitFor(t, waitLimit, "the reload signal ignored", func() bool {
		return d.countLog("signal ignored while stopping") == 1
	})
	d.signal(syscall.SIGINT)
	if code := d.exitCode(); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if got := d.read("cmd.log"); got != "start\n" {
		t.Fatalf("drcon waited for the command: %q", got)
	}
	if d.countLog("reloading") != 0 {
		t.Fatalf("a reload signal during the stop reloaded")
	}
	waitGroupGone(t, d.path("cmd.pid"))
	if d.countLog(`killed a running command: drcon is exiting at once" job=slow`) != 1 {
		t.Fatalf("the kill of the command is not logged:\n%s", strings.Join(d.logLines(), "\n"))
	}
}

// waitGroupGone waits until no live process is left in the process group
// whose leader's pid a command wrote to the file: zombies, which drcon's
// parent (or init) reaps, count as gone.
func waitGroupGone(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pgid := strings.TrimSpace(string(b))
	testenv.WaitFor(t, waitLimit, "the command's process group to die", func() bool { return !testenv.GroupAlive(pgid) })
}

// TestSignalsWithoutUse: as in consul-template, a signal the configuration
// gives no use is ignored instead of ending drcon: SIGHUP once
// reload_signal moved to SIGUSR1, SIGINT with kill_signal = "".
func TestSignalsWithoutUse(t *testing.T) {
	d := newDrcon(t)
	d.write(`reload_signal = "SIGUSR1"
kill_signal   = ""
template "x" {
  contents    = "x"
  destination = "$DIR/x.out"
}
`)
	d.start()
	for i, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGUSR2} {
		d.signal(sig)
		testenv.WaitFor(t, waitLimit, sig.String()+" ignored", func() bool { return d.countLog("signal ignored") == i+1 })
	}
	d.signal(syscall.SIGUSR1)
	testenv.WaitFor(t, waitLimit, "the reload", func() bool { return d.countLog("reloading configuration") == 1 })
	d.signal(syscall.SIGTERM)
	if code := d.exitCode(); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
}

// TestCommandFailure: a failing command leaves the other jobs alone with
// on_command_failure = "log", and stops drcon with exit code 4 with "exit".
func TestCommandFailure(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("k", "v1")
	conf := func(policy string) string {
		return fmt.Sprintf(`consul { address = %q }
template "failing" {
  contents           = "{{ key \"k\" }}"
  destination        = "$DIR/failing.out"
  command            = "exit 7"
  on_command_failure = %q
}
template "other" {
  contents    = "{{ key \"k\" }}"
  destination = "$DIR/other.out"
}
`, c.Addr, policy)
	}
	d := newDrcon(t)
	d.write(conf("log"))
	d.start()
	testenv.WaitFor(t, waitLimit, "the failed command in status", func() bool {
		cmd := d.job("failing").Command
		return cmd != nil && cmd.ExitCode == 7
	})
	c.PutKV("k", "v2")
	testenv.WaitFor(t, waitLimit, "the other job renders", func() bool { return d.read("other.out") == "v2" })
	if n := d.metric("drcon_template_commands_total", "job", "failing", "outcome", "failed"); n < 1 {
		t.Fatalf("failed commands counted: %v", n)
	}

	d.write(conf("exit"))
	if st := d.reload(); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	c.PutKV("k", "v3")
	if code := d.exitCode(); code != 4 {
		t.Fatalf("exit code %d, want 4", code)
	}
	if d.countLog(`on_command_failure is exit" job=failing`) != 1 {
		t.Fatalf("the exit is not logged with the job's name")
	}
}

// TestTemplateErrorFatal: a consul-template configuration that says
// template_error_fatal = true loads, and a template that then fails to
// execute stops drcon (exit 4), as it stops consul-template; a template
// that says error_fatal = false only logs its failure.
func TestTemplateErrorFatal(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("k", `{"a":1}`)
	c.PutKV("j", `{"a":1}`)
	d := newDrcon(t)
	d.write(fmt.Sprintf(`consul { address = %q }
template_error_fatal = true
template "lenient" {
  contents    = "{{ (key \"j\" | parseJSON).a }}"
  destination = "$DIR/lenient.out"
  error_fatal = false
}
template "strict" {
  contents    = "{{ (key \"k\" | parseJSON).a }}"
  destination = "$DIR/strict.out"
}
`, c.Addr))
	d.start()
	testenv.WaitFor(t, waitLimit, "both rendered", func() bool { return d.read("strict.out") == "1" && d.read("lenient.out") == "1" })
	c.PutKV("j", "not json")
	testenv.WaitFor(t, waitLimit, "the lenient job's error in status", func() bool { return d.job("lenient").LastError != "" })
	c.PutKV("k", "not json")
	if code := d.exitCode(); code != 4 {
		t.Fatalf("exit code %d, want 4", code)
	}
	if d.countLog(`error_fatal is true" job=strict`) != 1 {
		t.Fatalf("the exit is not logged with the job's name")
	}
}

// TestNoWriteWhileTheCommandRuns: KV changes during a template's command
// are written once it has run, so that the command reads one file from its
// start to its end (nginx -t, then a reload, read the same one), as under
// consul-template, which renders nothing while a command runs; the latest
// value is then written and the command runs again.
func TestNoWriteWhileTheCommandRuns(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/k", "100")
	d := newDrcon(t)
	d.write(fmt.Sprintf(`consul { address = %q }
template "slow" {
  contents    = "{{ key \"app/k\" }}"
  destination = "$DIR/slow.out"
  command     = "echo start=$(cat $DIR/slow.out) >> $DIR/cmd.log; while [ ! -e $DIR/release ]; do sleep 0.01; done; echo end=$(cat $DIR/slow.out) >> $DIR/cmd.log"
}
template "probe" {
  contents    = "{{ key \"app/k\" }}"
  destination = "$DIR/probe.out"
}
`, c.Addr))
	d.start()
	testenv.WaitFor(t, waitLimit, "the command's start", func() bool { return d.read("cmd.log") == "start=100\n" })
	// The command runs until the test releases it, once drcon has each
	// change: the probe, which has no command, writes it at once.
	for _, v := range []string{"101", "102", "103"} {
		c.PutKV("app/k", v)
		testenv.WaitFor(t, waitLimit, "the probe's "+v, func() bool { return d.read("probe.out") == v })
	}
	if err := os.WriteFile(d.path("release"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the second run's end", func() bool { return strings.Count(d.read("cmd.log"), "\n") == 4 })
	if got, want := d.read("cmd.log"), "start=100\nend=100\nstart=103\nend=103\n"; got != want {
		t.Fatalf("the command read\n%s\nwant\n%s", got, want)
	}
}
