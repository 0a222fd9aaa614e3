package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// slowOnce is a -once configuration, without Consul, whose command writes
// its process group's id, logs its start, waits for the file "open" and
// logs its end.
const slowOnce = `template "slow" {
  contents        = "slow"
  destination     = "$DIR/slow.out"
  command         = "echo $$ > $DIR/cmd.pid; echo start >> $DIR/cmd.log; while [ ! -e $DIR/open ]; do sleep 0.05; done; echo end >> $DIR/cmd.log"
  command_timeout = "5m"
}
`

// startSlowOnce starts drcon -once on slowOnce and waits for the command's
// start; the command's process group is killed when the test ends.
func startSlowOnce(t *testing.T) (dir string, p *testenv.Process) {
	dir = t.TempDir()
	writeFiles(t, dir, map[string]string{"drcon.hcl": slowOnce})
	t.Cleanup(func() {
		if pid, err := strconv.Atoi(strings.TrimSpace(readOr(dir, "cmd.pid"))); err == nil && pid > 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	p = testenv.Start(t, "drcon -once", exec.Command(testenv.Drcon(t), "-once", "-config", filepath.Join(dir, "drcon.hcl")))
	testenv.WaitFor(t, runLimit, "the command's start", func() bool { return readOr(dir, "cmd.log") == "start\n" })
	return dir, p
}

func readOr(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return string(b)
}

// exitCode waits for p to exit and returns its exit code, -1 for a signal.
func exitCode(t *testing.T, p *testenv.Process) int {
	t.Helper()
	err, ok := p.Wait(runLimit)
	var ee *exec.ExitError
	switch {
	case !ok:
		t.Fatalf("drcon did not exit:\n%s", p.Output())
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("wait: %v", err)
	return 0
}

// TestOnceIgnoresSIGHUP: a -once run reads its configuration once; SIGHUP
// (a closed terminal, a stray reload) neither ends it nor runs it again.
func TestOnceIgnoresSIGHUP(t *testing.T) {
	dir, p := startSlowOnce(t)
	if err := p.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, runLimit, "SIGHUP ignored", func() bool {
		return strings.Contains(p.Output(), `msg="signal ignored: this run reads its configuration once" signal=hangup`)
	})
	writeFiles(t, dir, map[string]string{"open": ""})
	if code := exitCode(t, p); code != 0 {
		t.Fatalf("exit code %d, want 0:\n%s", code, p.Output())
	}
	if got := readOr(dir, "cmd.log"); got != "start\nend\n" {
		t.Fatalf("the command ran %q, want once to its end", got)
	}
}

// TestOnceSecondSignal: the first stop signal lets the running command go
// on; a second one exits 1 at once and kills the command's process group
// rather than leave it running, and says so.
func TestOnceSecondSignal(t *testing.T) {
	dir, p := startSlowOnce(t)
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, runLimit, "the stop", func() bool { return strings.Contains(p.Output(), "msg=stopping") })
	if err := p.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitCode(t, p); code != 1 {
		t.Fatalf("exit code %d, want 1:\n%s", code, p.Output())
	}
	for _, want := range []string{`msg="second signal: exiting at once" signal=interrupt`,
		`msg="killed a running command: drcon is exiting at once" job=slow`,
		"drcon: stopped at once by a second signal"} {
		if !strings.Contains(p.Output(), want) {
			t.Fatalf("the output lacks %q:\n%s", want, p.Output())
		}
	}
	pgid := strings.TrimSpace(readOr(dir, "cmd.pid"))
	testenv.WaitFor(t, runLimit, "the command's process group to die", func() bool { return !testenv.GroupAlive(pgid) })
	if got := readOr(dir, "cmd.log"); got != "start\n" {
		t.Fatalf("the command went on: %q", got)
	}
}
