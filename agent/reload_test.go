package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/template/snapshot"
)

// reloadEnv is an agent run in-process on a fixed (empty) data set, so
// that reload by diff is exercised with the race detector and no Consul;
// integration/agent runs the same against the real binary and services.
type reloadEnv struct {
	t      *testing.T
	dir    string
	cfg    string
	status string
	a      *Agent
	done   chan error
	cancel context.CancelFunc
}

func startReloadEnv(t *testing.T, jobs map[string]string) *reloadEnv {
	t.Helper()
	// Not a port the kernel picks for ":0": that is also where it takes
	// outgoing connections' source ports from, which can hold it by the
	// time the agent listens (see testenv.FreePort).
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	e := &reloadEnv{t: t, dir: t.TempDir(), status: addr, done: make(chan error, 1)}
	e.cfg = filepath.Join(e.dir, "drcon.hcl")
	e.write(jobs)
	load := func() (*config.Config, error) { return config.Load([]string{e.cfg}, config.Overrides{}) }
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	store, err := snapshot.Read(strings.NewReader(`{"format": "drcon-snapshot", "version": 1, "entries": []}`))
	if err != nil {
		t.Fatal(err)
	}
	e.a, err = New(cfg, Options{Load: load, Logging: NewLogging(io.Discard, "info", "text"), Version: "test",
		Data: func() render.Source { return store.View() }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go func() { e.done <- e.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-e.done
	})
	e.waitHealthy()
	return e
}

// write writes a configuration of template jobs (name -> contents), each
// with a command that appends its name to the file "commands".
func (e *reloadEnv) write(jobs map[string]string) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "status { address = %q }\npid_file = %q\n", e.status, filepath.Join(e.dir, "pid"))
	for _, name := range slices.Sorted(maps.Keys(jobs)) {
		fmt.Fprintf(&b, "template %q {\n  contents = %q\n  destination = %q\n  command = \"echo %s >> %s\"\n}\n",
			name, jobs[name], filepath.Join(e.dir, name+".out"), name, filepath.Join(e.dir, "commands"))
	}
	if err := os.WriteFile(e.cfg, b.Bytes(), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *reloadEnv) waitHealthy() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.a.Status()
		if st.Healthy && len(st.Jobs) > 0 && e.commandsSettled(st) {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("not healthy: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// commandsSettled reports whether every job that wrote has its command's
// result.
func (e *reloadEnv) commandsSettled(st Status) bool {
	for _, j := range st.Jobs {
		if j.Writes > 0 && j.Command == nil {
			return false
		}
	}
	return true
}

func (e *reloadEnv) reload(wantCode int) ReloadStatus {
	e.t.Helper()
	resp, err := http.Post("http://"+e.status+"/v1/reload", "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st ReloadStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != wantCode {
		e.t.Fatalf("POST /v1/reload: %d, want %d: %+v", resp.StatusCode, wantCode, st)
	}
	e.waitHealthy()
	return st
}

func (e *reloadEnv) renders() map[string]uint64 {
	out := map[string]uint64{}
	for _, j := range e.a.Status().Jobs {
		out[j.Name] = j.Renders
	}
	return out
}

func (e *reloadEnv) commands() []string {
	b, err := os.ReadFile(filepath.Join(e.dir, "commands"))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	slices.Sort(lines)
	return lines
}

func (e *reloadEnv) read(name string) string {
	b, err := os.ReadFile(filepath.Join(e.dir, name+".out"))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

func TestReloadByDiff(t *testing.T) {
	e := startReloadEnv(t, map[string]string{"a": "A", "b": "B", "c": "C"})
	if got := e.commands(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("commands at start: %v", got)
	}
	pid, err := os.ReadFile(filepath.Join(e.dir, "pid"))
	if err != nil || strings.TrimSpace(string(pid)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("pid file %q, %v", pid, err)
	}
	before := e.renders()

	if st := e.reload(http.StatusOK); st.Outcome != reloadUnchanged {
		t.Fatalf("same file: %+v", st)
	}
	if got := e.renders(); !maps.Equal(got, before) || len(e.commands()) != 3 {
		t.Fatalf("an unchanged reload rendered or ran commands: renders %v, commands %v", got, e.commands())
	}

	e.write(map[string]string{"a": "A", "b": "B2", "c": "C"})
	st := e.reload(http.StatusOK)
	if st.Outcome != reloadOK || !slices.Equal(st.Restarted, []string{"b"}) || !slices.Equal(st.Kept, []string{"a", "c"}) {
		t.Fatalf("one job edited: %+v", st)
	}
	got := e.renders()
	if got["a"] != before["a"] || got["c"] != before["c"] || e.read("b") != "B2" {
		t.Fatalf("after editing b: renders %v (before %v), b = %q", got, before, e.read("b"))
	}
	if c := e.commands(); !slices.Equal(c, []string{"a", "b", "b", "c"}) {
		t.Fatalf("commands after editing b: %v", c)
	}

	os.WriteFile(e.cfg, []byte("template \"a\" {\n  contents = \"{{\"\n}\nbogus = 1\n"), 0o644)
	st = e.reload(http.StatusUnprocessableEntity)
	if st.Outcome != reloadFailed || len(st.Diagnostics) < 2 || !strings.Contains(st.Diagnostics[0], "drcon.hcl:") {
		t.Fatalf("broken file: %+v", st)
	}
	if last := e.a.Status().LastReload; last == nil || last.Outcome != reloadFailed || last.Error == "" {
		t.Fatalf("status after a failed reload: %+v", last)
	}
	if e.read("b") != "B2" || len(e.a.Status().Jobs) != 3 {
		t.Fatalf("a failed reload changed the running jobs")
	}

	e.write(map[string]string{"a": "{{ bad", "b": "B2", "c": "C"})
	if st := e.reload(http.StatusUnprocessableEntity); len(st.Diagnostics) != 1 || !strings.Contains(st.Diagnostics[0], `template "a"`) {
		t.Fatalf("a template that does not parse: %+v", st)
	}

	e.write(map[string]string{"a": "A", "b": "B2", "d": "D"})
	st = e.reload(http.StatusOK)
	if !slices.Equal(st.Stopped, []string{"c"}) || !slices.Equal(st.Started, []string{"d"}) {
		t.Fatalf("c removed, d added: %+v", st)
	}
	if e.read("d") != "D" {
		t.Fatalf("d not rendered")
	}

	e.cancel()
	if err := <-e.done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.done <- nil // for the cleanup
	if _, err := os.Stat(filepath.Join(e.dir, "pid")); !os.IsNotExist(err) {
		t.Fatalf("pid file left after stop: %v", err)
	}
}
