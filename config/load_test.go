package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeEnv is an environment for Overrides.Getenv.
func fakeEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// testEnv is the environment of the fixture tests.
var testEnv = fakeEnv("DRCON_TEST_SITE", "example.org", "HOME", "/home/test")

// golden compares got with the golden file path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./config -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./config -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func fixtures(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.hcl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s: %v", dir, err)
	}
	return paths
}

// dump renders a loaded Config for a golden file: its warnings as the CLI
// prints them, then every value.
func dump(t *testing.T, c *Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := c.WriteWarnings(&b, false); err != nil {
		t.Fatal(err)
	}
	v := *c
	v.Warnings = nil
	j, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b.Write(j)
	b.WriteByte('\n')
	return b.Bytes()
}

func TestLoadGood(t *testing.T) {
	for _, path := range fixtures(t, "good") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load([]string{path}, Overrides{Getenv: testEnv})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			golden(t, strings.TrimSuffix(path, ".hcl")+".golden", dump(t, c))
		})
	}
}

func TestLoadBad(t *testing.T) {
	for _, path := range fixtures(t, "bad") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c, err := Load([]string{path}, Overrides{Getenv: testEnv})
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Load = %v, %v; want a *config.Error", c, err)
			}
			for _, d := range cerr.Diagnostics {
				if d.Severity == hcl.DiagError && d.Subject == nil && path != "testdata/bad/no-jobs.hcl" {
					t.Errorf("diagnostic %q has no source position", d.Summary)
				}
			}
			golden(t, strings.TrimSuffix(path, ".hcl")+".golden", []byte(cerr.Error()+"\n"))
		})
	}
}

// TestAllMistakesReported checks that Load does not stop at the first
// problem: three mistakes in three places give three positioned errors.
func TestAllMistakesReported(t *testing.T) {
	_, err := Load([]string{"testdata/bad/three-mistakes.hcl"}, Overrides{Getenv: testEnv})
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load = %v; want a *config.Error", err)
	}
	var got []string
	for _, d := range cerr.Diagnostics {
		got = append(got, pos(*d.Subject)+" "+d.Summary)
	}
	want := []string{
		"testdata/bad/three-mistakes.hcl:1:13 Invalid duration",
		"testdata/bad/three-mistakes.hcl:6:17 Invalid perms",
		"testdata/bad/three-mistakes.hcl:10:16 Invalid value for deregister",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, w := range want {
		if p, _, _ := strings.Cut(w, " "); !strings.Contains(err.Error(), p+": Error: ") {
			t.Errorf("Error() does not show %s", p)
		}
	}
}

func TestWriteTextColor(t *testing.T) {
	_, err := Load([]string{"testdata/bad/three-mistakes.hcl"}, Overrides{Getenv: testEnv})
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load = %v; want a *config.Error", err)
	}
	var b bytes.Buffer
	if n, err := cerr.WriteTo(&b, true); err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, b.Len())
	}
	if !strings.Contains(b.String(), "\x1b[31mError\x1b[0m: Invalid perms") {
		t.Errorf("no colored error in:\n%s", b.String())
	}
}

// TestExecAlone: a file with only exec {}, or -exec alone, is a
// configuration, as in consul-template: the child is the job.
func TestExecAlone(t *testing.T) {
	dir := writeFiles(t, map[string]string{"exec.hcl": "exec {\n  command = \"nginx\"\n}\n"})
	if c := mustLoad(t, []string{dir + "/exec.hcl"}, Overrides{}); !c.Exec.Enabled() {
		t.Fatalf("loaded %+v", c.Exec)
	}
	if c := mustLoad(t, nil, Overrides{Exec: ExecOverrides{Command: "nginx"}}); !c.Exec.Enabled() {
		t.Fatalf("-exec alone: loaded %+v", c.Exec)
	}
}

// TestExecCommandOneWord: exec's command as one word runs without a shell,
// as in consul-template, so that its signals reach the program alone and
// not a wrapper script's own children; a word the shell would expand, and
// anything longer, runs under /bin/sh -c; a list is argv.
func TestExecCommandOneWord(t *testing.T) {
	tests := []struct {
		command string // as the file writes it
		want    Command
	}{
		{`"/usr/local/bin/entrypoint.sh"`, Command{Argv: []string{"/usr/local/bin/entrypoint.sh"}}},
		{`"nginx"`, Command{Argv: []string{"nginx"}}},
		{`"nginx -g 'daemon off;'"`, Command{Shell: "nginx -g 'daemon off;'"}},
		{`"$APP"`, Command{Shell: "$APP"}},
		{`"~/bin/app"`, Command{Shell: "~/bin/app"}},
		{`"app;"`, Command{Shell: "app;"}},
		{`["app"]`, Command{Argv: []string{"app"}}},
		{`["app -x"]`, Command{Shell: "app -x"}},
	}
	for _, tt := range tests {
		dir := writeFiles(t, map[string]string{"exec.hcl": "exec {\n  command = " + tt.command + "\n}\n"})
		if got := mustLoad(t, []string{dir + "/exec.hcl"}, Overrides{}).Exec.Command; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("command = %s: got %#v, want %#v", tt.command, got, tt.want)
		}
		if s := strings.Trim(tt.command, `"`); !strings.HasPrefix(tt.command, "[") {
			o := Overrides{Exec: ExecOverrides{Command: s}}
			if got := mustLoad(t, nil, o).Exec.Command; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("-exec %s: got %#v, want %#v", s, got, tt.want)
			}
		}
	}
}

// TestStatusAddress: a status address whose port the listener cannot use
// is refused where it is written, as one without a port is, instead of
// failing drcon's start (exit 1) after validate passed it.
func TestStatusAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8090": true, ":8090": true, "localhost:0": true, "[::1]:8090": true, "127.0.0.1:http": true,
		"8090": false, "127.0.0.1:99999": false, "127.0.0.1:-1": false, "127.0.0.1:no-such-service": false,
	} {
		dir := writeFiles(t, map[string]string{"s.hcl": fmt.Sprintf("status {\n  address = %q\n}\n", addr) + aJob})
		paths := []string{dir + "/s.hcl"}
		if ok {
			mustLoad(t, paths, Overrides{})
			continue
		}
		if _, got := loadError(t, paths, Overrides{}); got != "Invalid status address" {
			t.Errorf("address %q: %s", addr, got)
		}
	}
}
