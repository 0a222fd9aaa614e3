package agent

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
)

// clock is a settable time for the rotation tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// files lists the base names in dir, sorted.
func files(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

func TestLogFileRotation(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	name := func(prefix string, d time.Duration, ext string) string {
		return prefix + "-" + strconv.FormatInt(start.Add(d).UnixNano(), 10) + ext
	}
	tests := []struct {
		name  string
		cfg   config.LogFile
		steps []time.Duration // write one 10-byte line at each offset
		want  func(dir string) []string
	}{
		{"by size, keep all", config.LogFile{Path: "app.log", RotateBytes: 20, RotateDuration: time.Hour},
			[]time.Duration{0, 1, 2, 3, 4},
			func(string) []string {
				return []string{name("app", 0, ".log"), name("app", 2, ".log"), name("app", 4, ".log")}
			}},
		{"by age", config.LogFile{Path: "app.log", RotateDuration: time.Minute},
			[]time.Duration{0, 30 * time.Second, time.Minute, 90 * time.Second},
			func(string) []string { return []string{name("app", 0, ".log"), name("app", time.Minute, ".log")} }},
		{"keep one earlier file", config.LogFile{Path: "app.log", RotateBytes: 10, RotateDuration: time.Hour, RotateMaxFiles: 1},
			[]time.Duration{0, 1, 2, 3},
			func(string) []string { return []string{name("app", 2, ".log"), name("app", 3, ".log")} }},
		{"keep none", config.LogFile{Path: "app.log", RotateBytes: 10, RotateDuration: time.Hour, RotateMaxFiles: -1},
			[]time.Duration{0, 1, 2},
			func(string) []string { return []string{name("app", 2, ".log")} }},
		{"a directory, and a name without extension", config.LogFile{Path: "logs/", RotateDuration: time.Hour},
			[]time.Duration{0},
			func(string) []string { return []string{name("drcon", 0, ".log")} }},
		{"no extension", config.LogFile{Path: "app", RotateDuration: time.Hour},
			[]time.Duration{0},
			func(string) []string { return []string{name("app", 0, ".log")} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.cfg.Path = filepath.Join(dir, tc.cfg.Path)
			if strings.HasSuffix(tc.cfg.Path, "logs") {
				tc.cfg.Path += "/"
				dir = filepath.Join(dir, "logs")
			}
			clk := &clock{t: start}
			l, err := openLogFile(tc.cfg, clk.now)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			for _, at := range tc.steps {
				clk.t = start.Add(at)
				if _, err := l.Write([]byte("123456789\n")); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := files(t, dir), tc.want(dir); !slices.Equal(got, want) {
				t.Fatalf("files %v, want %v", got, want)
			}
		})
	}
}

// A start removes what log_rotate_max_files leaves out, and leaves other
// files alone.
func TestLogFilePrunesAtStart(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"app-100.log", "app-200.log", "app-300.log", "app-notes.log", "other.log"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Unix(0, 400)}
	l, err := openLogFile(config.LogFile{Path: filepath.Join(dir, "app.log"), RotateDuration: time.Hour, RotateMaxFiles: 2}, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	want := []string{"app-200.log", "app-300.log", "app-400.log", "app-notes.log", "other.log"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
}
