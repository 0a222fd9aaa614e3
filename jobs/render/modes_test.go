package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
	"github.com/drcon/drcon/template/dep"
)

func runOnce(t *testing.T, j *Job, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return j.Run(ctx)
}

// Once waits for complete data, writes, waits for the command, and returns.
func TestOnce(t *testing.T) {
	store := rendertest.NewStore()
	cfg := newConfig(t, "web", `{{ key "k" }}`)
	ran := filepath.Join(t.TempDir(), "ran")
	cfg.Command = config.Command{Shell: "sleep 0.2; touch " + ran}
	cfg.Wait = config.Wait{Min: time.Hour, Max: time.Hour} // once ignores it
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.SetKey("k", "v")
	}()
	if err := runOnce(t, j, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if content(cfg.Destination) != "v" {
		t.Errorf("destination %q", content(cfg.Destination))
	}
	if _, err := os.Stat(ran); err != nil {
		t.Errorf("Run returned before its command finished: %v", err)
	}
}

func TestOnceFailures(t *testing.T) {
	// Only missing data waits for the timeout; the other failures must come
	// well before it, even on a loaded machine.
	const short, long = 300 * time.Millisecond, 20 * time.Second
	for _, tc := range []struct {
		name    string
		setup   func(cfg *config.Template)
		text    string
		timeout time.Duration
		want    []string
	}{
		{"missing data", nil, `{{ key "k" }}{{ key "absent" }}{{ service "db" }}`, short,
			[]string{"gave up waiting for data", "missing health.service(db|passing), kv.block(absent)"}},
		{"render", nil, `{{ key "k" | printf "%s" | len | index "x" }}`, long, []string{`render job "web"`, "web:1:33: executing"}},
		{"check", func(cfg *config.Template) { cfg.Check = config.Command{Argv: []string{"false"}} }, `{{ key "k" }}`, long,
			[]string{"check false refused the candidate: exit code 1"}},
		{"command", func(cfg *config.Template) { cfg.Command = config.Command{Shell: "exit 7"} }, `{{ key "k" }}`, long,
			[]string{"command exit 7: exit code 7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := rendertest.NewStore()
			store.SetKey("k", "v")
			cfg := newConfig(t, "web", tc.text)
			if tc.setup != nil {
				tc.setup(cfg)
			}
			j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
			err := runOnce(t, j, tc.timeout)
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want %q", err, w)
				}
			}
		})
	}
}

// A dependency whose queries failed for good (retries spent) fails a once
// render at once, naming it, as consul-template does; data that merely has
// not arrived yet is waited for.
func TestOnceFailedDependency(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" }}{{ service "web@dc9" }}{{ key "later" }}`)
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce})
	gone := rendertest.Service("web")
	gone.DC = "dc9"
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.Fail(gone, errors.New("Unexpected response code: 500 (No path to datacenter)"))
	}()
	err := runOnce(t, j, 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), `render job "web": health.service(web@dc9|passing)`) ||
		!strings.Contains(err.Error(), "No path to datacenter") || strings.Contains(err.Error(), "gave up waiting") {
		t.Fatalf("error %v, want the failed dependency named", err)
	}
	if s := j.Status(); !strings.Contains(s.LastError, "No path to datacenter") {
		t.Errorf("status error %q, want the failure", s.LastError)
	}
	if _, statErr := os.Stat(cfg.Destination); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("destination written: %v", statErr)
	}
}

// A dependency that failed for good fails a once render even when the data
// that arrived with the failure makes the next pass not use it, as
// consul-template stops at the failure.
func TestOnceFailureOfTheLastPass(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ if keyExists "switch" }}{{ key "k" }}{{ else }}{{ service "web@dc9" }}{{ end }}`)
	src := store.Subscribe()
	j := mustNew(t, cfg, src, Options{Mode: ModeOnce})
	gone := rendertest.Service("web")
	gone.DC = "dc9"
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		// Both arrive before the job's next execution.
		release := src.Hold()
		store.Fail(gone, errors.New("Unexpected response code: 500 (No path to datacenter)"))
		store.Set(rendertest.KV("switch"), dep.KVValue{Exists: true, Value: "on"})
		release()
	}()
	err := runOnce(t, j, 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "No path to datacenter") {
		t.Fatalf("error %v, want the failed dependency named", err)
	}
	if _, statErr := os.Stat(cfg.Destination); !errors.Is(statErr, os.ErrNotExist) {
		t.Errorf("destination written: %v", statErr)
	}
}

// Dry prints "> DESTINATION" and the render, writes nothing, runs nothing.
func TestDryOnce(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", "line {{ key \"k\" }}\n")
	cfg.Command = config.Command{Shell: "exit 1"}
	cfg.Check = config.Command{Shell: "exit 1"}
	var out bytes.Buffer
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce | ModeDry, DryOut: &out})
	if err := runOnce(t, j, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if want := "> " + cfg.Destination + "\nline v\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if _, err := os.Stat(filepath.Dir(cfg.Destination)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Destination); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry mode wrote the destination: %v", err)
	}
}

// The dry daemon prints every render that differs from the last printed,
// each in one Write, so that jobs sharing a locked writer never interleave.
func TestDryDaemon(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "0")
	store.SetKey("noise", "0")
	var buf lockedBuffer
	var js []*Job
	for i := range 4 {
		// One read of k: the data may change while a render runs.
		cfg := newConfig(t, fmt.Sprint("job", i), `{{ $k := key "k" }}`+strings.Repeat(`{{ $k }}`, 2000)+`{{ key "noise" | printf "%.0s" }}`)
		j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeDry, DryOut: &buf})
		startJob(t, j)
		js = append(js, j)
	}
	printed := func() int { return strings.Count(buf.String(), "> ") }
	eventually(t, "the first prints", func() bool { return printed() == 4 })
	store.SetKey("k", "1")
	eventually(t, "the second prints", func() bool { return printed() == 8 })
	renders := js[0].Status().Renders
	store.SetKey("noise", "1")
	eventually(t, "a render of the same output", func() bool { return js[0].Status().Renders > renders })
	store.SetKey("k", "2")
	eventually(t, "the third prints", func() bool { return printed() == 12 })
	for _, chunk := range strings.Split(buf.String(), "> ")[1:] {
		_, body, _ := strings.Cut(chunk, "\n")
		if body != strings.Repeat(string(body[0]), 2000) {
			t.Fatalf("an interleaved or partial print (%d bytes): %.80q...%q", len(chunk), chunk, chunk[max(0, len(chunk)-30):])
		}
	}
	for _, j := range js {
		if _, err := os.Stat(j.cfg.Destination); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry mode wrote %s", j.cfg.Destination)
		}
	}
}

// lockedBuffer is a writer safe for concurrent Writes, as the agent's is.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
