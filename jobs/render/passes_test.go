package render

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/jobs/render/rendertest"
	"github.com/drcon/drcon/template/dep"
)

// appendLine is template text that appends what it is given to the file
// at path on every execution: the count of executions, as a template's side
// effects show it.
func appendLine(path, what string) string {
	return fmt.Sprintf(`{{ %s | writeToFile %q "" "" "0644" "append" }}`, what, path)
}

// A template that finds a new dependency executes again when its answer
// arrives, not at once without it: consul-template executes once per
// arrival, and a template's side effects happen as often in drcon.
func TestOnePassPerArrival(t *testing.T) {
	store := rendertest.NewStore()
	count := filepath.Join(t.TempDir(), "count")
	cfg := newConfig(t, "npass", appendLine(count, `"x"`)+`{{ with key "gate" }}{{ key . }}{{ end }}`)
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
	missing := func(d string) func() bool {
		return func() bool { return slices.Contains(j.Status().Missing, d) }
	}
	go func() {
		eventually(t, "the gate to be missing", missing("kv.block(gate)"))
		store.SetKey("gate", "k")
		eventually(t, "the key it names to be missing", missing("kv.block(k)"))
		store.SetKey("k", "v")
	}()
	if err := runOnce(t, j, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := content(count); got != "xxx" {
		t.Errorf("executions %q, want xxx: without data, with the gate, with the key", got)
	}
	if got := content(cfg.Destination); got != "v" {
		t.Errorf("destination %q", got)
	}
}

// The execution with the first of two answers alone comes before the one
// with both, as in consul-template, which executes after each answer.
func TestFirstAnswerAloneComesFirst(t *testing.T) {
	store := rendertest.NewStore()
	seen := filepath.Join(t.TempDir(), "seen")
	cfg := newConfig(t, "order", appendLine(seen, `(printf "%s%s;" (keyOrDefault "a" "-") (keyOrDefault "b" "-"))`))
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.SetTogether(map[dep.Dependency]any{rendertest.KV("a"): dep.KVValue{Exists: true, Value: "1"},
			rendertest.KV("b"): dep.KVValue{Exists: true, Value: "2"}})
	}()
	if err := runOnce(t, j, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := content(seen); got != "--;1-;12;" {
		t.Errorf("executions saw %q, want --;1-;12;", got)
	}
}

// Jobs that share answers and write into them (mergeMapWithOverride into
// an instance's ServiceMeta) execute one at a time: go test -race reports
// any overlap.
func TestJobsWritingIntoSharedAnswers(t *testing.T) {
	store := rendertest.NewStore()
	instance := func(version int) []*dep.HealthService {
		s := rendertest.Instance("web", "10.0.0.1", 80)
		s.ServiceMeta = map[string]string{"version": fmt.Sprint(version)}
		return []*dep.HealthService{s}
	}
	store.SetService("web", instance(0)...)
	const text = `{{ range service "web" }}{{ $_ := mergeMapWithOverride (sprig_dict "m" .ServiceMeta) ` +
		`(sprig_dict "m" (splitToMap "," "=" "seen=yes")) }}{{ .ServiceMeta.version }}{{ end }}`
	var jobs []*Job
	for i := range 4 {
		cfg := newConfig(t, fmt.Sprint("w", i), text)
		j := mustNew(t, cfg, store.Subscribe(), Options{Commands: startRunner(t, &logs{})})
		startJob(t, j)
		jobs = append(jobs, j)
	}
	var wg sync.WaitGroup
	for version := 1; version <= 20; version++ {
		wg.Go(func() { store.SetService("web", instance(version)...) })
	}
	wg.Wait()
	store.SetService("web", instance(21)...)
	for _, j := range jobs {
		eventually(t, "job "+j.cfg.Name+" at the last version", func() bool { return content(j.cfg.Destination) == "21" })
	}
}

// wantCounter is a source that counts the calls of Want, and those with
// no Hold (the start of an execution) since the last one.
type wantCounter struct {
	*rendertest.Sub
	calls, unheld atomic.Int32
	held          atomic.Bool
}

func (w *wantCounter) Hold() (release func()) {
	w.held.Store(true)
	return w.Sub.Hold()
}

func (w *wantCounter) Want(ds []dep.Dependency) {
	w.calls.Add(1)
	if !w.held.Swap(false) {
		w.unheld.Add(1)
	}
	w.Sub.Want(ds)
}

// The source hears of every execution, through Hold at its start and Want
// after it, even when the set of dependencies did not change or the
// execution failed (then with the set of the last one that did not): the
// watcher pool keeps a deleted key's last value for a job yet to execute
// with the change that made another job drop it.
func TestWantAfterEveryExecution(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := rendertest.NewStore()
		store.SetKey("k", "1")
		src := &wantCounter{Sub: store.Subscribe()}
		cfg := newConfig(t, "web", `{{ key "k" | parseInt }}`)
		j := mustNew(t, cfg, src, Options{Logger: (&logs{}).logger()})
		startJob(t, j)
		synctest.Wait()
		for i, v := range []string{"2", "x", "3"} {
			store.SetKey("k", v)
			synctest.Wait()
			if got := src.calls.Load(); got != int32(i+2) {
				t.Fatalf("after k=%s: %d calls of Want, want %d", v, got, i+2)
			}
			if got := depStrings(src.Wanted()); !slices.Equal(got, []string{"kv.block(k)"}) {
				t.Fatalf("after k=%s: wanted %v", v, got)
			}
		}
		if n := src.unheld.Load(); n != 0 {
			t.Errorf("%d calls of Want without a Hold before them", n)
		}
		if got := content(cfg.Destination); got != "3" {
			t.Errorf("destination %q, want 3", got)
		}
	})
}
