package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

// lines reads a file of lines, or none.
func lines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(strings.TrimSpace(string(b)))
}

// The check sees the candidate, by {{candidate}} in a string or a list and
// by $DRCON_CANDIDATE: a file beside the destination with the final
// content and mode, which is renamed into place once the check passes.
func TestCheckSeesTheCandidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(log string) config.Command
	}{
		{"string", func(log string) config.Command {
			return config.Command{Shell: `echo {{candidate}} "$DRCON_CANDIDATE" $(stat -c %a {{candidate}}) $(cat {{candidate}}) >>` + log}
		}},
		{"list", func(log string) config.Command {
			return config.Command{Argv: []string{"/bin/sh", "-c",
				`echo "$1" "$DRCON_CANDIDATE" $(stat -c %a "$1") $(cat "$1") >>` + log, "sh", "{{candidate}}"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := rendertest.NewStore()
			store.SetKey("k", "hello")
			cfg := newConfig(t, "web", `{{ key "k" }}`)
			cfg.Perms = 0o640
			log := filepath.Join(t.TempDir(), "check.log")
			cfg.Check = tc.check(log)
			j := mustNew(t, cfg, store.Subscribe(), Options{})
			startJob(t, j)
			eventually(t, "the write", func() bool { return j.Status().Writes == 1 })

			got := lines(log)
			if len(got) != 4 {
				t.Fatalf("check saw %q", got)
			}
			cand := got[0]
			if cand != got[1] || filepath.Dir(cand) != filepath.Dir(cfg.Destination) ||
				!strings.HasPrefix(filepath.Base(cand), ".web.conf.drcon-") || !strings.HasSuffix(cand, ".tmp") {
				t.Errorf("candidate %q, $DRCON_CANDIDATE %q: want a hidden temp file beside the destination", cand, got[1])
			}
			if got[2] != "640" || got[3] != "hello" {
				t.Errorf("candidate mode %s content %q, want 640 and the render", got[2], got[3])
			}
			if _, err := os.Stat(cand); !os.IsNotExist(err) {
				t.Errorf("the candidate should have become the destination: %v", err)
			}
			if b, _ := os.ReadFile(cfg.Destination); string(b) != "hello" {
				t.Errorf("destination %q", b)
			}
			if s := j.Status(); s.Check == nil || s.Check.ExitCode != 0 || s.Check.Command != cfg.Check.String() {
				t.Errorf("status check %+v", s.Check)
			}
		})
	}
}

// A refused candidate leaves the live file alone, is recorded, runs no
// command, and is not checked again until the output changes.
func TestCheckRefuses(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "good")
	store.SetKey("noise", "0")
	cfg := newConfig(t, "web", `{{ key "k" }}{{ key "noise" | printf "%.0s" }}`)
	dir := t.TempDir()
	checks, commands := filepath.Join(dir, "checks"), filepath.Join(dir, "commands")
	// Refuses content containing "bad", and says why on stderr.
	cfg.Check = config.Command{Shell: `echo x >>` + checks + `; if grep -q bad {{candidate}}; then echo "line 1: bad data" >&2; exit 3; fi`}
	cfg.Command = config.Command{Shell: "echo x >>" + commands}
	m := newMetrics()
	var l logs
	j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &l), Metrics: m, Logger: l.logger()})
	startJob(t, j)
	eventually(t, "the first command", func() bool { return len(lines(commands)) == 1 })
	before := stat(t, cfg.Destination).Ino

	store.SetKey("k", "bad")
	eventually(t, "the refusal", func() bool { return j.Status().State == StateRefused })
	s := j.Status()
	if s.Check == nil || s.Check.ExitCode != 3 || !strings.Contains(s.LastError, "line 1: bad data") ||
		!strings.Contains(s.LastError, "exit code 3") {
		t.Errorf("status %+v / check %+v: want exit code 3 and the check's output", s, s.Check)
	}
	if b, _ := os.ReadFile(cfg.Destination); string(b) != "good" || stat(t, cfg.Destination).Ino != before {
		t.Errorf("the live file changed to %q", b)
	}
	if left := tempFiles(t, filepath.Dir(cfg.Destination)); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	if got := value(t, m.CheckFailures.WithLabelValues("web")); got != 1 {
		t.Errorf("check failures metric %v", got)
	}
	if r := l.find("render failed"); len(r) != 1 || !strings.Contains(attr(r[0], "error"), "line 1: bad data") {
		t.Errorf("want one error log with the check's output, got %d", len(r))
	}

	// Renders that leave the output as refused do not check it again.
	renders := j.Status().Renders
	store.SetKey("noise", "1")
	eventually(t, "a render of the same output", func() bool { return j.Status().Renders > renders })
	if n := len(lines(checks)); n != 2 {
		t.Errorf("%d checks; the refused output must not be checked again", n)
	}

	store.SetKey("k", "good again")
	eventually(t, "the fixed render", func() bool { return len(lines(commands)) == 2 })
	if b, _ := os.ReadFile(cfg.Destination); string(b) != "good again" {
		t.Errorf("destination %q", b)
	}
	if n := len(lines(checks)); n != 3 {
		t.Errorf("%d checks, want 3", n)
	}
	if s := j.Status(); s.State != StateIdle || s.LastError != "" {
		t.Errorf("status %+v: want idle without error", s)
	}
}

func TestCheckTimeout(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	cfg.Check = config.Command{Shell: "sleep 60"}
	cfg.CommandTimeout = 100 * time.Millisecond
	j := mustNew(t, cfg, store.Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the refusal", func() bool { return j.Status().State == StateRefused })
	if s := j.Status(); !s.Check.TimedOut || !strings.Contains(s.LastError, "timed out after 100ms") {
		t.Errorf("check %+v, error %q", s.Check, s.LastError)
	}
	if _, err := os.Stat(cfg.Destination); !os.IsNotExist(err) {
		t.Errorf("destination written: %v", err)
	}
}

// Stopping the job during a check kills the check and removes the candidate.
func TestStopDuringCheck(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	started := filepath.Join(t.TempDir(), "started")
	cfg.Check = config.Command{Shell: "touch " + started + "; sleep 60"}
	j := mustNew(t, cfg, store.Subscribe(), Options{})
	ctx, cancel := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- j.Run(ctx) }()
	eventually(t, "the check to start", func() bool { _, err := os.Stat(started); return err == nil })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if left := tempFiles(t, filepath.Dir(cfg.Destination)); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	if _, err := os.Stat(cfg.Destination); !os.IsNotExist(err) {
		t.Errorf("destination written: %v", err)
	}
}
