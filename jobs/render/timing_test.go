package render

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

// writes returns when the job's destination was written, relative to t0.
func writes(l *logs, t0 time.Time) []time.Duration {
	var out []time.Duration
	for _, r := range l.find("wrote destination") {
		out = append(out, r.Time.Sub(t0))
	}
	return out
}

// TestRunTimeline drives the job's own loop and timers on synctest's clock:
// the first render happens at once, then changes of the job's dependency
// are spaced by its window exactly as TestWindowTimelines says.
func TestRunTimeline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []time.Duration
		want    []time.Duration
	}{
		{"every second for 9s", every(time.Second, 10), []time.Duration{0, 5 * time.Second, 10 * time.Second}},
		{"consul-template's 1.06s timeline", every(ms(1060), 9), []time.Duration{0, 5 * time.Second, ms(10300)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := rendertest.NewStore()
				store.SetKey("k", "v0")
				cfg := newConfig(t, "web", `{{ key "k" }}`)
				cfg.Wait = config.Wait{Min: 2 * time.Second, Max: 5 * time.Second}
				var l logs
				j := mustNew(t, cfg, store.Subscribe(), Options{Logger: l.logger()})
				t0 := time.Now()
				startJob(t, j)
				synctest.Wait() // the first render, at t0
				for i, at := range tc.changes {
					time.Sleep(time.Until(t0.Add(at)))
					store.SetKey("k", fmt.Sprint("v", i+1))
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				if got := writes(&l, t0); !slices.Equal(got, tc.want) {
					t.Errorf("writes at %v, want %v", got, tc.want)
				}
				last := fmt.Sprint("v", len(tc.changes))
				if b, _ := os.ReadFile(cfg.Destination); string(b) != last {
					t.Errorf("destination %q, want the last data %q", b, last)
				}
				if s := j.Status(); s.Renders != 3 || s.Writes != 3 || !s.Ready || s.State != StateIdle {
					t.Errorf("status %+v: want 3 renders, 3 writes, ready and idle", s)
				}
			})
		})
	}
}

// Without a window every change renders at once, and a render whose output
// equals the file writes nothing.
func TestRunWithoutWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := rendertest.NewStore()
		store.SetKey("k", "a")
		store.SetKey("other", "x")
		cfg := newConfig(t, "web", `{{ key "k" }}{{ key "other" | printf "%.0s" }}`)
		var l logs
		j := mustNew(t, cfg, store.Subscribe(), Options{Logger: l.logger()})
		t0 := time.Now()
		startJob(t, j)
		time.Sleep(time.Second)
		store.SetKey("k", "b")
		time.Sleep(time.Second)
		store.SetKey("other", "y") // used, but the output does not change
		time.Sleep(time.Second)
		synctest.Wait()
		if got, want := writes(&l, t0), []time.Duration{0, time.Second}; !slices.Equal(got, want) {
			t.Errorf("writes at %v, want %v", got, want)
		}
		if s := j.Status(); s.Renders != 3 || s.Writes != 2 {
			t.Errorf("renders %d writes %d, want 3 and 2", s.Renders, s.Writes)
		}
	})
}

// A job waiting for missing data neither renders nor disturbs another
// job's quiescence (consul-template turns quiescence off for every
// template until all have rendered once).
func TestMissingDataStaysInItsJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := rendertest.NewStore()
		store.SetKey("b", "0")
		var la, lb logs
		cfgA := newConfig(t, "a", `{{ key "a" }}`)
		cfgB := newConfig(t, "b", `{{ key "b" }}`)
		cfgB.Wait = config.Wait{Min: 2 * time.Second, Max: 5 * time.Second}
		a := mustNew(t, cfgA, store.Subscribe(), Options{Logger: la.logger()})
		b := mustNew(t, cfgB, store.Subscribe(), Options{Logger: lb.logger()})
		t0 := time.Now()
		startJob(t, a)
		startJob(t, b)
		synctest.Wait()
		for i, at := range every(time.Second, 10) {
			time.Sleep(time.Until(t0.Add(at)))
			store.SetKey("b", fmt.Sprint(i+1))
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got, want := writes(&lb, t0), []time.Duration{0, 5 * time.Second, 10 * time.Second}; !slices.Equal(got, want) {
			t.Errorf("job b writes at %v, want %v", got, want)
		}
		s := a.Status()
		if s.Ready || s.State != StateMissing || !slices.Equal(s.Missing, []string{"kv.block(a)"}) || s.Renders != 0 {
			t.Errorf("job a: %+v, want not ready, missing kv.block(a), no render", s)
		}
		if _, err := os.Stat(cfgA.Destination); !os.IsNotExist(err) {
			t.Errorf("job a wrote its destination without data: %v", err)
		}
	})
}

// A render that discovers new dependencies executes again at once, so that
// data the process already has (another job uses it) is not waited for.
func TestNPassDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := rendertest.NewStore()
		store.SetKey("backend", "db-2")
		cfg := newConfig(t, "web", `{{ with key "which" }}{{ key . }}{{ end }}`)
		sub := store.Subscribe()
		j := mustNew(t, cfg, sub, Options{})
		startJob(t, j)
		synctest.Wait()
		if s := j.Status(); s.State != StateMissing || !slices.Equal(s.Missing, []string{"kv.block(which)"}) {
			t.Fatalf("status %+v, want missing kv.block(which)", s)
		}
		store.SetKey("which", "backend")
		synctest.Wait()
		if b, _ := os.ReadFile(cfg.Destination); string(b) != "db-2" {
			t.Fatalf("destination %q, want db-2", b)
		}
		if got := strings.Join(depStrings(sub.Wanted()), " "); got != "kv.block(backend) kv.block(which)" {
			t.Errorf("wanted %s", got)
		}
	})
}

// A change that quiescence holds back still executes the template, without
// writing, as consul-template executes every template at every change: the
// dependency it leaves unused is let go and the new one watched at once,
// not at the window's end. (A key let go and used again within the window
// then starts afresh in both, instead of keeping a deleted key's last
// value.)
func TestQuiescenceFollowsDependencies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := rendertest.NewStore()
		store.SetKey("which", "x")
		store.SetKey("x", "1")
		store.SetKey("y", "2")
		cfg := newConfig(t, "web", `{{ key (keyOrDefault "which" "") }}`)
		cfg.Wait = config.Wait{Min: 2 * time.Second, Max: 5 * time.Second}
		sub := store.Subscribe()
		j := mustNew(t, cfg, sub, Options{})
		startJob(t, j)
		synctest.Wait()
		store.SetKey("which", "y")
		time.Sleep(time.Second)
		synctest.Wait()
		if got := strings.Join(depStrings(sub.Wanted()), " "); got != "kv.block(y) kv.get(which)" {
			t.Errorf("wanted within the window: %s, want kv.block(y) kv.get(which)", got)
		}
		if got := content(cfg.Destination); got != "1" {
			t.Errorf("destination within the window %q, want 1", got)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := content(cfg.Destination); got != "2" {
			t.Errorf("destination after the window %q, want 2", got)
		}
		if s := j.Status(); s.Renders != 2 || s.Writes != 2 || s.State != StateIdle {
			t.Errorf("status %+v: want 2 renders, 2 writes, idle", s)
		}
	})
}

// The coalescing target: ten jobs with wait { min = "1s" } share a
// dependency that changes 100 times in 3s, and a reload command. Each job
// renders once, and the command runs once, for the changes; the initial
// renders likewise share one run.
func TestTenJobsOneReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		count := t.TempDir() + "/runs"
		store := rendertest.NewStore()
		store.SetKey("shared", "0")
		var l logs
		runner := startRunner(t, &l)
		var js []*Job
		for i := range 10 {
			cfg := newConfig(t, fmt.Sprint("job", i), fmt.Sprintf(`job %d: {{ key "shared" }}`, i))
			cfg.Wait = config.Wait{Min: time.Second, Max: 4 * time.Second}
			cfg.Command = config.Command{Shell: "echo run >> " + count}
			j := mustNew(t, cfg, store.Subscribe(), Options{Commands: runner, Logger: l.logger()})
			startJob(t, j)
			js = append(js, j)
		}
		synctest.Wait()
		t0 := time.Now()
		for i, at := range every(ms(30), 100) {
			time.Sleep(time.Until(t0.Add(at)))
			store.SetKey("shared", fmt.Sprint(i+1))
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		for _, j := range js {
			if s := j.Status(); s.Renders != 2 || s.Writes != 2 || s.Command == nil || s.Command.ExitCode != 0 {
				t.Errorf("%s: %d renders, %d writes, command %+v; want 2, 2 and a successful command",
					j.Name(), s.Renders, s.Writes, s.Command)
			}
		}
		b, err := os.ReadFile(count)
		if err != nil {
			t.Fatal(err)
		}
		if runs := strings.Count(string(b), "run\n"); runs != 2 {
			t.Errorf("the command ran %d times, want 2 (initial renders, then the changes)", runs)
		}
		for _, r := range l.find("wrote destination") {
			if at := r.Time.Sub(t0); at != 0 && at != ms(3970) {
				t.Errorf("a write at %v: want the initial ones and ones at 3.97s", at)
			}
		}
	})
}
