package render

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
)

// newConfig is a job with the config package's defaults, writing into a
// fresh directory.
func newConfig(t testing.TB, name, text string) *config.Template {
	return &config.Template{Name: name, Text: text, Destination: filepath.Join(t.TempDir(), name+".conf"),
		CreateDestDirs: true, Atomic: true, CommandTimeout: 30 * time.Second, OnCommandFailure: "log"}
}

func mustNew(t testing.TB, cfg *config.Template, src Source, o Options) *Job {
	t.Helper()
	j, err := New(cfg, src, o)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// background runs f until the test ends, then cancels it and waits for it.
// The returned channel has f's result.
func background(t testing.TB, f func(ctx context.Context) error) <-chan error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- f(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return done
}

// startJob runs j in the background and returns the channel of Run's result.
func startJob(t testing.TB, j *Job) <-chan error { return background(t, j.Run) }

// startRunner runs a command runner that logs to log.
func startRunner(t testing.TB, log *logs) *CommandRunner {
	c := NewCommandRunner(CommandRunnerOptions{Logger: log.logger()})
	background(t, c.Run)
	return c
}

// logs records log records, for assertions on what was logged and when.
type logs struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logs) logger() *slog.Logger { return slog.New(logHandler{l: l}) }

// find returns the records with message msg.
func (l *logs) find(msg string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.records {
		if r.Message == msg {
			out = append(out, r)
		}
	}
	return out
}

type logHandler struct {
	l     *logs
	attrs []slog.Attr
}

func (h logHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h logHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	h.l.records = append(h.l.records, r)
	return nil
}
func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{l: h.l, attrs: append(slices.Clone(h.attrs), as...)}
}
func (h logHandler) WithGroup(string) slog.Handler { return h }

// attr returns the value of r's attribute key.
func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// eventually polls cond until it holds or the deadline passes; for tests
// with real processes and files, where nothing can be waited on exactly.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
