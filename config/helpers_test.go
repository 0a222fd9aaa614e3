package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content files into a new directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads paths and fails the test on any error.
func mustLoad(t *testing.T, paths []string, o Overrides) *Config {
	t.Helper()
	if o.Getenv == nil {
		o.Getenv = fakeEnv()
	}
	c, err := Load(paths, o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// loadError loads paths, which must fail, and returns the summaries of
// the errors.
func loadError(t *testing.T, paths []string, o Overrides) (*Error, string) {
	t.Helper()
	if o.Getenv == nil {
		o.Getenv = fakeEnv()
	}
	c, err := Load(paths, o)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Load = %+v, %v; want a *config.Error", c, err)
	}
	var s []string
	for _, d := range cerr.Diagnostics {
		s = append(s, d.Summary)
	}
	return cerr, strings.Join(s, "; ")
}

// aJob is a minimal template block, so that a file is a whole configuration.
const aJob = `
template "job" {
  contents    = "x"
  destination = "/tmp/job"
}
`
