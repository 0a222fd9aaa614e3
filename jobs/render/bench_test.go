package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
	"github.com/drcon/drcon/template/dep"
	"github.com/fsnotify/fsnotify"
)

// benchTemplate renders an nginx upstream of ten instances (about 400 bytes).
const benchTemplate = `upstream web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }};
{{- end }}
}
`

// instances are ten instances whose ports depend on i, so that every
// iteration renders a new output.
func instances(i int) []*dep.HealthService {
	var out []*dep.HealthService
	for k := range 10 {
		out = append(out, rendertest.Instance("web", fmt.Sprintf("10.0.0.%d", k), 20000+(i+k)%30000))
	}
	return out
}

// BenchmarkChangeToWrite measures what a change costs without a wait:
//   - render: executing the template;
//   - fsync-baseline: the bare system calls of a durable atomic write of
//     the same bytes (create, write, fsync, close, rename, fsync the
//     directory), which no correct writer avoids;
//   - render+write: the job's render and write path (compare with the file,
//     temp file, chmod, fsync, rename, directory fsync);
//   - dispatch: holding and requesting the command on a running runner;
//   - loop: end to end through the job's loop, from the change to the
//     rename seen by inotify, with the command dispatched.
//
// The write path's own cost is render+write - render - fsync-baseline; on
// tmpfs (/dev/shm) the disk drops out.
func BenchmarkChangeToWrite(b *testing.B) {
	dirs := map[string]string{"disk": ""}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dirs["tmpfs"] = "/dev/shm"
	}
	setup := func(b *testing.B, base string, command bool) (*Job, *rendertest.Store, *run) {
		store := rendertest.NewStore()
		store.SetService("web", instances(0)...)
		cfg := newConfig(b, "web", benchTemplate)
		if base != "" {
			dir, err := os.MkdirTemp(base, "drcon-bench-")
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { os.RemoveAll(dir) })
			cfg.Destination = filepath.Join(dir, "web.conf")
		}
		o := Options{}
		if command {
			cfg.Command = config.Command{Argv: []string{"true"}}
			o.Commands = NewCommandRunner(CommandRunnerOptions{})
			background(b, o.Commands.Run)
		}
		j := mustNew(b, cfg, store.Subscribe(), o)
		return j, store, &run{j: j, tmpl: j.tmpl, files: fileWatch{log: j.log}}
	}
	b.Run("render", func(b *testing.B) {
		_, store, r := setup(b, "", false)
		i := 0
		for b.Loop() {
			i++
			store.SetService("web", instances(i)...)
			if _, err := r.tmpl.Execute(r.j.src); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, fs := range []string{"disk", "tmpfs"} {
		base, ok := dirs[fs]
		if !ok {
			continue
		}
		b.Run("fsync-baseline/"+fs, func(b *testing.B) {
			j, _, _ := setup(b, base, false)
			dir := filepath.Dir(j.cfg.Destination)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			out := []byte(strings.Repeat("x", 400))
			for b.Loop() {
				f, err := os.CreateTemp(dir, "bare-*")
				if err != nil {
					b.Fatal(err)
				}
				f.Write(out)
				f.Sync()
				f.Close()
				if err := os.Rename(f.Name(), j.cfg.Destination); err != nil {
					b.Fatal(err)
				}
				if err := syncDir(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("render+write/"+fs, func(b *testing.B) {
			_, store, r := setup(b, base, false)
			i := 0
			for b.Loop() {
				i++
				store.SetService("web", instances(i)...)
				if complete, err := r.render(context.Background()); !complete || err != nil {
					b.Fatal(complete, err)
				}
			}
		})
	}
	b.Run("dispatch", func(b *testing.B) {
		runner := NewCommandRunner(CommandRunnerOptions{})
		background(b, runner.Run)
		cmd := config.Command{Argv: []string{"true"}}
		for b.Loop() {
			release := runner.hold(cmd, nil)
			runner.Request(CommandRequest{Job: "web", Command: cmd})
			release()
		}
	})
	b.Run("loop", func(b *testing.B) {
		j, store, _ := setup(b, "", true)
		w, err := fsnotify.NewWatcher()
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		if err := w.Add(filepath.Dir(j.cfg.Destination)); err != nil {
			b.Fatal(err)
		}
		written := func() {
			for ev := range w.Events {
				if ev.Name == j.cfg.Destination && ev.Has(fsnotify.Create) {
					return
				}
			}
		}
		startJob(b, j)
		written()
		i := 0
		for b.Loop() {
			i++
			store.SetService("web", instances(i)...)
			written()
		}
	})
}

// BenchmarkGatherSpread measures how far apart ten jobs woken by the same
// change request their shared command (the spread the gather window must
// cover), and how many runs each change causes (1 is the target).
func BenchmarkGatherSpread(b *testing.B) {
	store := rendertest.NewStore()
	store.SetKey("shared", "0")
	var l logs
	runner := NewCommandRunner(CommandRunnerOptions{Logger: l.logger()})
	background(b, runner.Run)
	var js []*Job
	for i := range 10 {
		cfg := newConfig(b, fmt.Sprint("job", i), fmt.Sprintf(`job %d: {{ key "shared" }}`, i))
		cfg.Command = config.Command{Argv: []string{"true"}}
		j := mustNew(b, cfg, store.Subscribe(), Options{Commands: runner, Logger: l.logger()})
		startJob(b, j)
		js = append(js, j)
	}
	settled := func(n uint64) {
		eventually(b, "the writes and the command", func() bool {
			for _, j := range js {
				if s := j.Status(); s.Writes < n || s.Command == nil || s.Command.At.Before(s.LastWrite) {
					return false
				}
			}
			return true
		})
	}
	settled(1)
	var spreads []time.Duration
	runsBefore := len(l.find("command finished"))
	n := uint64(1)
	for b.Loop() {
		n++
		store.SetKey("shared", fmt.Sprint(n))
		settled(n)
		var at []time.Time
		for _, j := range js {
			at = append(at, j.Status().LastWrite)
		}
		spreads = append(spreads, slices.MaxFunc(at, time.Time.Compare).Sub(slices.MinFunc(at, time.Time.Compare)))
	}
	slices.Sort(spreads)
	b.ReportMetric(float64(spreads[len(spreads)/2].Microseconds()), "p50-spread-µs")
	b.ReportMetric(float64(spreads[len(spreads)-1].Microseconds()), "max-spread-µs")
	b.ReportMetric(float64(len(l.find("command finished"))-runsBefore)/float64(n-1), "runs/change")
}
