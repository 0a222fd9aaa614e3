// Package cli tests the drcon command line as users run it: -once, -dry,
// validate, snapshot and -data, consul-template's common flags next to
// consul-template itself, and every exit code, against a real Consul.
package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// runLimit bounds every run of a binary; a -once that hangs fails the test.
const runLimit = 2 * time.Minute

// result is one run of a binary.
type result struct {
	code   int
	stdout string
	stderr string
}

// run runs bin in dir with args and returns its exit code and output.
func run(t *testing.T, dir, bin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s did not exit within %s\nstderr:\n%s", filepath.Base(bin), strings.Join(args, " "), runLimit, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", bin, err)
	}
	return r
}

// drcon runs the drcon binary in dir.
func drcon(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return run(t, dir, testenv.Drcon(t), args...)
}

// writeFiles writes name -> content under dir; "$DIR" is replaced by dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(content, "$DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// read returns a file of dir, "" when it does not exist.
func read(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// expect fails the test unless r has the exit code and its stderr every
// substring.
func expect(t *testing.T, what string, r result, code int, stderr ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Fatalf("%s: stderr lacks %q:\n%s", what, s, r.stderr)
		}
	}
}
