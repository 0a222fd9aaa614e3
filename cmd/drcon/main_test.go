package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/snapshot"
)

// drcon runs the command line in-process and returns its exit code and
// output.
func drcon(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// files writes name -> content under a temp dir and returns the dir;
// "$DIR" in a content is replaced by the dir.
func files(t *testing.T, m map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range m {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(content, "$DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeSnapshot writes a snapshot holding app/name = "web".
func writeSnapshot(t *testing.T, dir string) string {
	t.Helper()
	name, err := dep.ParseKV("app/name")
	if err != nil {
		t.Fatal(err)
	}
	// app/absent was recorded as not existing: key gets no data from it.
	answers := map[dep.Dependency]any{name: dep.KVValue{Exists: true, Value: "web"}}
	for k, v := range map[string]dep.KVValue{"app/absent": {}, "app/a": {Exists: true, Value: "1"}, "app/b": {Exists: true, Value: "2"}} {
		d, err := dep.ParseKV(k)
		if err != nil {
			t.Fatal(err)
		}
		answers[d] = v
	}
	var b bytes.Buffer
	if err := snapshot.Write(&b, answers); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var position = regexp.MustCompile(`(?m)^\S+\.hcl:\d+:\d+: `)

// TestExitCodes: each exit code of the command line, for the reasons that
// need no service (the integration/cli tests cover the others).
func TestExitCodes(t *testing.T) {
	dir := files(t, map[string]string{
		"good.hcl": `template "a" {
  contents    = "static"
  destination = "$DIR/a.out"
}
`,
		// Three mistakes, each with its own place.
		"three.hcl": `log_level = "loud"
template "a" {
  contents    = "x"
  destination = "$DIR/a.out"
  perms       = "9999"
}
registrator "r" {
  deregister = "sometimes"
}
`,
		"badtemplate.hcl": `template "a" {
  contents    = "{{ key }"
  destination = "$DIR/a.out"
}
template "b" {
  source      = "$DIR/b.ctmpl"
  destination = "$DIR/b.out"
}
`,
		"b.ctmpl": "line one\n{{ range services }}\n",
	})
	cfg := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // a substring
		stderr    string // a substring
		positions int    // file:line:col prefixes expected in stderr
	}{
		{"help", []string{"-h"}, exitOK, "", "Usage:", 0},
		{"help command", []string{"help"}, exitOK, "Usage:", "", 0},
		{"version flag", []string{"-version"}, exitOK, "drcon ", "", 0},
		{"v flag", []string{"-v"}, exitOK, "drcon ", "", 0},
		{"version command", []string{"version"}, exitOK, "drcon ", "", 0},
		{"unknown flag", []string{"-bogus"}, exitUsage, "", "flag provided but not defined: -bogus", 0},
		{"argument", []string{"-config", cfg("good.hcl"), "extra"}, exitUsage, "", `unexpected argument "extra"`, 0},
		{"data without once", []string{"-config", cfg("good.hcl"), "-data", "x.json"}, exitUsage, "", "-data needs -once or -dry", 0},
		{"bad duration", []string{"-config", cfg("good.hcl"), "-once", "-timeout", "soon"}, exitUsage, "", "invalid value", 0},
		{"duration without unit", []string{"-config", cfg("good.hcl"), "-once", "-timeout", "30"}, exitUsage, "", `"30" is not a duration such as "30s"`, 0},
		// A negative timeout would never time out.
		{"negative duration", []string{"-config", cfg("good.hcl"), "-once", "-timeout", "-1s"}, exitUsage, "", `"-1s" is negative`, 0},
		{"snapshot negative duration", []string{"snapshot", "-config", cfg("good.hcl"), "-timeout", "-1s"}, exitUsage, "", `"-1s" is negative`, 0},
		{"missing data file", []string{"-config", cfg("good.hcl"), "-once", "-data", cfg("none.json")}, exitUsage, "", "-data", 0},
		{"bad data file", []string{"-config", cfg("good.hcl"), "-once", "-data", cfg("b.ctmpl")}, exitConfig, "", "read snapshot", 0},
		{"no config", []string{}, exitConfig, "", "No configuration", 0},
		{"missing config", []string{"-config", cfg("none.hcl")}, exitConfig, "", "Cannot read configuration", 0},
		{"three mistakes", []string{"-config", cfg("three.hcl"), "-once"}, exitConfig, "", "Invalid log_level", 3},
		{"validate good", []string{"validate", "-config", cfg("good.hcl")}, exitOK, "configuration is valid: 1 template(s)", "", 0},
		{"validate three mistakes", []string{"validate", "-config", cfg("three.hcl")}, exitConfig, "", "Invalid perms", 3},
		{"validate templates", []string{"validate", "-config", cfg("badtemplate.hcl")}, exitConfig, "", "b.ctmpl:3: unexpected EOF", 2},
		{"validate argument", []string{"validate", "-config", cfg("good.hcl"), "x"}, exitUsage, "", "unexpected argument", 0},
		{"once bad template", []string{"-once", "-config", cfg("badtemplate.hcl")}, exitConfig, "", `template "a"`, 2},
		{"status without address", []string{"status"}, exitUsage, "", "give -addr or -config", 0},
		{"status without status block", []string{"status", "-config", cfg("good.hcl")}, exitConfig, "", "no status", 0},
		{"snapshot argument", []string{"snapshot", "-config", cfg("good.hcl"), "x"}, exitUsage, "", "unexpected argument", 0},
		{"snapshot bad config", []string{"snapshot", "-config", cfg("three.hcl")}, exitConfig, "", "Invalid value for deregister", 3},
		{"snapshot into a missing directory", []string{"snapshot", "-config", cfg("good.hcl"), "-o", cfg("none/state.json")}, exitError, "",
			"drcon snapshot: -o " + cfg("none/state.json") + ": ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := drcon(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("drcon %s: exit %d, want %d (stdout %q, stderr %q wanted)\nstdout:\n%s\nstderr:\n%s",
					strings.Join(tt.args, " "), code, tt.code, tt.stdout, tt.stderr, stdout, stderr)
			}
			if n := len(position.FindAllString(stderr, -1)); n != tt.positions {
				t.Fatalf("stderr has %d file:line:col prefixes, want %d:\n%s", n, tt.positions, stderr)
			}
		})
	}
}

// TestOnceOffline: -once and -dry against a snapshot, with no Consul: what
// renders, what runs, and the exit code of each way a job can fail.
func TestOnceOffline(t *testing.T) {
	job := func(name, contents, extra string) string {
		return fmt.Sprintf("template %q {\n  contents = %q\n  destination = \"$DIR/%s.out\"\n%s}\n", name, contents, name, extra)
	}
	cmd := func(name string) string { return fmt.Sprintf("  command = \"echo %s >> $DIR/commands\"\n", name) }
	tests := []struct {
		name    string
		config  string
		flags   []string
		code    int
		stderr  []string
		written map[string]string // destination name -> content; others must not exist
		ran     string            // the commands file
		stdout  string
	}{
		{"renders and runs", job("a", `name={{ key "app/name" }}`, cmd("a")) + job("b", "static", cmd("b")),
			[]string{"-once"}, exitOK, nil, map[string]string{"a": "name=web", "b": "static"}, "a\nb\n", ""},
		{"dry", job("a", `name={{ key "app/name" }}`, cmd("a")), []string{"-once", "-dry"}, exitOK, nil, nil, "",
			"> $DIR/a.out\nname=web"},
		{"dry alone is once", job("a", "x", cmd("a")), []string{"-dry"}, exitOK, nil, nil, "", "> $DIR/a.out\nx"},
		{"command fails", job("a", "x", "  command = \"exit 3\"\n") + job("b", "y", cmd("b")), []string{"-once"},
			exitRender, []string{`template "a"`, "exit code 3"}, map[string]string{"a": "x", "b": "y"}, "b\n", ""},
		{"check fails", job("a", "x", "  check = \"echo refused >&2; exit 1\"\n"+cmd("a")), []string{"-once"},
			exitRender, []string{`template "a"`, "refused"}, nil, "", ""},
		{"render fails", job("a", `{{ "x" | parseInt }}`, cmd("a")), []string{"-once"},
			exitRender, []string{`template "a"`, "parseInt"}, nil, "", ""},
		// A snapshot never changes: a key it saved as absent fails at once,
		// where a live -once waits for it until -timeout.
		{"key absent fails at once", job("a", `{{ key "app/absent" }}`, cmd("a")) + job("b", "y", cmd("b")),
			[]string{"-once", "-timeout", "1h"}, exitRender,
			[]string{`template "a"`, "kv.block(app/absent): the snapshot's answer to it gives the template no data"},
			map[string]string{"b": "y"}, "b\n", ""},
		{"not in the snapshot", job("a", `{{ key "app/name" }}{{ key "app/other" }}`, cmd("a")), []string{"-once"},
			exitRender, []string{`template "a"`, "kv.block(app/other): the snapshot has no answer to it"}, nil, "", ""},
		{"first pass fails as live", job("a", `{{ index (key "app/name" | split "e") 1 }}`, cmd("a")), []string{"-once"},
			exitRender, []string{`template "a"`, "index out of range"}, nil, "", ""},
		{"first answer alone fails as live", job("a", `{{ if and (key "app/a") (key "app/b") }}both{{ else if or (key "app/a") (key "app/b") }}{{ parseInt "half" }}{{ end }}`, cmd("a")),
			[]string{"-once"}, exitRender, []string{`template "a"`, "with the data of kv.block(app/a) alone", `parsing "half"`}, nil, "", ""},
		{"failure beats timeout", job("a", `{{ key "app/absent" }}`, "") + job("b", "y", "  command = \"false\"\n"),
			[]string{"-once", "-timeout", "200ms"}, exitRender, []string{`template "a"`, `template "b"`},
			map[string]string{"b": "y"}, "", ""},
		{"job cannot be built", job("a", "x", "  user = \"no-such-user-drcon\"\n"), []string{"-once"},
			exitConfig, []string{`template "a"`, "no-such-user-drcon"}, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := files(t, map[string]string{"drcon.hcl": tt.config})
			args := append([]string{"-config", filepath.Join(dir, "drcon.hcl"), "-data", writeSnapshot(t, dir)}, tt.flags...)
			code, stdout, stderr := drcon(args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", code, tt.code, stderr)
			}
			for _, s := range tt.stderr {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if want := strings.ReplaceAll(tt.stdout, "$DIR", dir); !strings.Contains(stdout, want) {
				t.Errorf("stdout %q lacks %q", stdout, want)
			}
			for _, name := range []string{"a", "b"} {
				got, err := os.ReadFile(filepath.Join(dir, name+".out"))
				want, ok := tt.written[name]
				switch {
				case ok && (err != nil || string(got) != want):
					t.Errorf("%s.out = %q, %v; want %q", name, got, err, want)
				case !ok && err == nil:
					t.Errorf("%s.out written: %q", name, got)
				}
			}
			ran, _ := os.ReadFile(filepath.Join(dir, "commands"))
			lines := strings.Fields(string(ran))
			slices.Sort(lines)
			if strings.Join(lines, "\n") != strings.TrimSpace(tt.ran) {
				t.Errorf("commands ran %q, want %q", ran, tt.ran)
			}
		})
	}
}

// TestOnceExit: which exit code a -once outcome gets.
func TestOnceExit(t *testing.T) {
	failed := &agent.JobError{Job: "a", Kind: "template", Err: errors.New("command false: exit code 1")}
	timedOut := &agent.JobError{Job: "b", Kind: "template", Err: fmt.Errorf("gave up (%w)", agent.ErrOnceTimeout)}
	interrupted := &agent.JobError{Job: "c", Kind: "template", Err: fmt.Errorf("gave up (%w)", context.Canceled)}
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"ok", nil, exitOK},
		{"failed", failed, exitRender},
		{"timed out", timedOut, exitTimeout},
		{"failure beats timeout", errors.Join(timedOut, failed), exitRender},
		{"interrupted", interrupted, exitError},
		{"interrupted and timed out", errors.Join(interrupted, timedOut), exitTimeout},
		{"invalid", fmt.Errorf("x: %w", agent.ErrInvalid), exitConfig},
		{"second signal", agent.ErrForced, exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w bytes.Buffer
			if got := onceExit(&w, tt.err); got != tt.code {
				t.Fatalf("onceExit = %d, want %d", got, tt.code)
			}
			if tt.err != nil && strings.Count(w.String(), "\n") != len(split(tt.err)) {
				t.Fatalf("want one line per error:\n%s", w.String())
			}
		})
	}
}

// TestStartupWarnings: warnings at startup name their place as reloads do,
// file:line:col, and leave it out for a flag; -timeout without -once is
// said to do nothing. The pid file's missing directory ends the run once
// they are logged.
func TestStartupWarnings(t *testing.T) {
	dir := files(t, map[string]string{"drcon.hcl": `pid_file = "$DIR/missing/drcon.pid"
template "a" {
  contents       = "x"
  destination    = "$DIR/a.out"
  exec_on_change = "reload"
}
`})
	code, _, stderr := drcon("-config", filepath.Join(dir, "drcon.hcl"), "-consul-transport-dial-timeout", "5s",
		"-timeout", "5s")
	if code != exitError {
		t.Fatalf("exit code %d, want %d:\n%s", code, exitError, stderr)
	}
	var setting, flag, timeout string
	for l := range strings.Lines(stderr) {
		switch {
		case strings.Contains(l, `msg="Ignored setting"`):
			setting = l
		case strings.Contains(l, `msg="Ignored flag"`):
			flag = l
		case strings.Contains(l, "-timeout only applies with -once"):
			timeout = l
		}
	}
	if !strings.Contains(setting, " at="+filepath.Join(dir, "drcon.hcl")+":2:1\n") {
		t.Errorf("the file's warning is not at file:line:col: %q", setting)
	}
	if flag == "" || strings.Contains(flag, "at=") {
		t.Errorf("the flag's warning: %q, want one without at", flag)
	}
	if !strings.Contains(timeout, "level=WARN") || !strings.Contains(timeout, "timeout=5s") {
		t.Errorf("-timeout without -once: %q, want a warning\n%s", timeout, stderr)
	}
}
