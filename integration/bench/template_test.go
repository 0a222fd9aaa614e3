// The template benchmarks: drcon against consul-template v0.41.1, both run
// as users run them against one real Consul, in one run. Each reports both
// programs' numbers and drcon/ct, the ratio the targets are stated in:
//
//	go test -run '^$' -bench Template -benchtime 1x -timeout 30m ./integration/bench/
//
// Run them without -race: with -race, drcon is built with the race detector.

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// tmplUpstreams is the nginx template of the DR CoN pattern: a least_conn
// upstream per service, with every passing instance.
const tmplUpstreams = `{{- range services }}
upstream {{ .Name }} {
  least_conn;
{{- range service .Name }}
  server {{ .Address }}:{{ .Port }} max_fails=3 fail_timeout=60 weight=1;
{{- end }}
}
{{- end }}
`

// tmplOnceRuns is how many -once runs of each program one round of
// BenchmarkTemplateOnceUpstreams makes; it reports their medians, which a
// busy machine moves less than means.
const tmplOnceRuns = 7

// BenchmarkTemplateOnceUpstreams: -once render of tmplUpstreams over 100
// services of 50 instances (5,000 instances): CPU time (user+sys) and peak
// RSS of each whole process, medians of tmplOnceRuns runs each. Target:
// drcon at most half of consul-template's on both. It also reports the peak
// RSS above each program's own floor (the same -once run on a template of
// one key), which leaves out what the size of each binary costs, and the
// peak RSS of testdata/template/bare, the least program that renders the
// same bytes with Consul's client and text/template: the floor of any
// renderer built on them; and each program's peak RSS of -version, which
// runs the Go runtime's start and every package initialiser and nothing else.
func BenchmarkTemplateOnceUpstreams(b *testing.B) {
	const services, perService = 100, 50
	tools := tmplFindTools(b)
	c := testenv.StartConsul(b)
	var ins []tmplInstance
	for s := range services {
		for n := range perService {
			node, _ := tmplNode(n)
			ins = append(ins, tmplInstance{node: node, service: fmt.Sprintf("svc-%03d", s),
				id: fmt.Sprintf("svc-%03d-%03d", s, n), port: 20000 + n})
		}
	}
	tmplRegister(b, c.Client(), perService, ins)
	c.PutKV("bench/floor", "x")
	dir := b.TempDir()
	src := filepath.Join(dir, "upstreams.ctmpl")
	tmplWrite(b, src, tmplUpstreams)
	floorSrc := filepath.Join(dir, "floor.ctmpl")
	tmplWrite(b, floorSrc, `{{ key "bench/floor" }}`)

	run := func(bin, src string) (tmplUsage, []byte) {
		dest := filepath.Join(dir, "out.conf")
		os.Remove(dest)
		u := tmplRunOnce(b, bin, append(tmplArgs(c.Addr, src+":"+dest), "-once")...)
		out, err := os.ReadFile(dest)
		if err != nil {
			b.Fatal(err)
		}
		return u, out
	}
	// An untimed round warms Consul and checks that both render the same
	// 5,000 servers (and the agent's own consul service).
	_, ctOut := run(tools.ct, src)
	_, drOut := run(tools.drcon, src)
	if !bytes.Equal(ctOut, drOut) {
		b.Fatalf("the outputs differ: consul-template %d bytes, drcon %d bytes", len(ctOut), len(drOut))
	}
	bare := tmplHelper(b, "bare")
	runBare := func() tmplUsage {
		dest := filepath.Join(dir, "bare.conf")
		u := tmplRunOnce(b, bare, c.Addr, src, dest)
		out, err := os.ReadFile(dest)
		if err != nil || !bytes.Equal(out, ctOut) {
			b.Fatalf("bare rendered %d bytes, consul-template %d: %v", len(out), len(ctOut), err)
		}
		return u
	}
	runBare()
	if n := bytes.Count(drOut, []byte("\n  server ")); n != services*perService+1 {
		b.Fatalf("%d servers rendered, want %d", n, services*perService+1)
	}

	var dr, ct, bareU, drFloor, ctFloor, drStart, ctStart []tmplUsage
	b.ResetTimer()
	for range b.N {
		for range tmplOnceRuns {
			// Alternate, so that neither always meets a warmer Consul.
			u, _ := run(tools.ct, src)
			ct = append(ct, u)
			u, _ = run(tools.drcon, src)
			dr = append(dr, u)
			bareU = append(bareU, runBare())
		}
	}
	b.StopTimer()
	for range 3 {
		u, _ := run(tools.ct, floorSrc)
		ctFloor = append(ctFloor, u)
		u, _ = run(tools.drcon, floorSrc)
		drFloor = append(drFloor, u)
		ctStart = append(ctStart, tmplRunOnce(b, tools.ct, "-version"))
		drStart = append(drStart, tmplRunOnce(b, tools.drcon, "-version"))
	}
	drU, ctU := tmplMedian(dr), tmplMedian(ct)
	drF, ctF := tmplMedian(drFloor), tmplMedian(ctFloor)
	tmplReport(b, "cpu", "ms", tmplMS(drU.cpu), tmplMS(ctU.cpu))
	tmplReport(b, "maxrss", "MB", tmplMB(drU.maxRSS), tmplMB(ctU.maxRSS))
	tmplReport(b, "maxrss-over-floor", "MB", tmplMB(drU.maxRSS-drF.maxRSS), tmplMB(ctU.maxRSS-ctF.maxRSS))
	b.Logf("floor (-once of one key): drcon %.1f MB, consul-template %.1f MB", tmplMB(drF.maxRSS), tmplMB(ctF.maxRSS))
	drS, ctS := tmplMedian(drStart), tmplMedian(ctStart)
	tmplReport(b, "start-maxrss", "MB", tmplMB(drS.maxRSS), tmplMB(ctS.maxRSS))
	b.Logf("start (-version: the runtime and package initialisers, nothing else): drcon %.1f MB, consul-template %.1f MB; "+
		"half of consul-template's peak leaves drcon %.1f MB above its own start",
		tmplMB(drS.maxRSS), tmplMB(ctS.maxRSS), tmplMB(ctU.maxRSS/2-drS.maxRSS))
	bareM := tmplMedian(bareU)
	b.ReportMetric(tmplMB(bareM.maxRSS), "bare-maxrss-MB")
	b.ReportMetric(float64(bareM.maxRSS)/float64(ctU.maxRSS), "maxrss-bare/ct")
	b.Logf("bare (consul/api + text/template, the same bytes): peak RSS %.1f MB, %.2f of consul-template's",
		tmplMB(bareM.maxRSS), float64(bareM.maxRSS)/float64(ctU.maxRSS))
}

// tmplMedian is the median CPU time and the median peak RSS of us.
func tmplMedian(us []tmplUsage) tmplUsage {
	cpu := make([]time.Duration, len(us))
	rss := make([]int64, len(us))
	for i, u := range us {
		cpu[i], rss[i] = u.cpu, u.maxRSS
	}
	slices.Sort(cpu)
	slices.Sort(rss)
	return tmplUsage{cpu: cpu[len(cpu)/2], maxRSS: rss[len(rss)/2]}
}

// tmplChangesPerRound is the number of changes of the latency benchmark per
// b.N; with -benchtime 1x, each program sees 150 changes.
const tmplChangesPerRound = 150

// tmplChangeGap spaces the changes beyond both programs' minimum gap between
// two queries of one dependency (100 ms + up to 20%), so that what is
// measured is how fast a change reaches the file, not that rate limit.
const tmplChangeGap = 150 * time.Millisecond

// BenchmarkTemplateChangeLatency: from a KV write to Consul to the
// destination file replaced (seen by inotify on its directory), for each
// program running as a daemon without wait on the same template over a key
// of its own, their changes alternating. Target: p50 and p99 no slower than
// consul-template.
func BenchmarkTemplateChangeLatency(b *testing.B) { changeLatency(b, nil) }

// BenchmarkExecReloadLatency: the same in exec mode, each program running
// a child (testdata/template/sigchild) that it sends SIGHUP when the file
// changed, as it would nginx: from the KV write to the child having read
// the new file. Target: p50 and p99 no slower than consul-template.
func BenchmarkExecReloadLatency(b *testing.B) {
	child := tmplHelper(b, "sigchild")
	changeLatency(b, func(dest string) (args []string, seen string) {
		seen = dest + ".seen"
		return []string{"-exec", child, "-exec-reload-signal", "SIGHUP",
			"-exec-env-custom", "SIGCHILD_SRC=" + dest, "-exec-env-custom", "SIGCHILD_DST=" + seen}, seen
	})
}

// changeLatency measures from a KV write to the destination replaced, or,
// with exec, to the file the exec child writes when told of the change:
// withExec returns the extra arguments of a program rendering dest, and
// that file.
func changeLatency(b *testing.B, withExec func(dest string) (args []string, seen string)) {
	tools := tmplFindTools(b)
	c := testenv.StartConsul(b)
	dir := b.TempDir()
	kv := tmplClient(b, c.Addr).KV()

	// Each program watches a key of its own; both run for the whole
	// benchmark and their changes alternate, so that neither meets a
	// busier machine or Consul than the other.
	type subject struct {
		name, key, dest string
		awaited         string // dest, or the exec child's copy
		w               *fsnotify.Watcher
		lat             []time.Duration
	}
	put := func(key, v string) {
		if _, err := kv.Put(&api.KVPair{Key: key, Value: []byte(v)}, nil); err != nil {
			b.Fatalf("put: %v", err)
		}
	}
	var subjects []*subject
	for _, t := range []struct{ name, bin string }{{"ct", tools.ct}, {"drcon", tools.drcon}} {
		out := filepath.Join(dir, t.name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			b.Fatal(err)
		}
		w, err := fsnotify.NewWatcher()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { w.Close() })
		if err := w.Add(out); err != nil {
			b.Fatal(err)
		}
		s := &subject{name: t.name, key: "bench/latency-" + t.name, dest: filepath.Join(out, "latency.conf"), w: w}
		src := filepath.Join(dir, t.name+".ctmpl")
		tmplWrite(b, src, `value={{ key "`+s.key+`" }}`+"\n")
		put(s.key, "start")
		args := tmplArgs(c.Addr, src+":"+s.dest)
		s.awaited = s.dest
		if withExec != nil {
			more, seen := withExec(s.dest)
			args, s.awaited = append(args, more...), seen
		}
		tmplDaemon(b, t.name, t.bin, args...)
		tmplAwaitWrite(b, w, s.awaited, "value=start\n")
		subjects = append(subjects, s)
	}
	b.ResetTimer()
	for i := range tmplChangesPerRound * b.N {
		for _, s := range subjects {
			time.Sleep(tmplChangeGap)
			v := fmt.Sprintf("%s-%d", s.name, i)
			start := time.Now()
			put(s.key, v)
			s.lat = append(s.lat, tmplAwaitWrite(b, s.w, s.awaited, "value="+v+"\n").Sub(start))
		}
	}
	b.StopTimer()
	ct, dr := subjects[0].lat, subjects[1].lat
	for _, q := range []struct {
		name string
		p    float64
	}{{"p50", 0.50}, {"p99", 0.99}} {
		tmplReport(b, q.name, "ms", tmplMS(tmplPercentile(dr, q.p)), tmplMS(tmplPercentile(ct, q.p)))
	}
	b.Logf("changes per program: %d; drcon min/max %s/%s; consul-template min/max %s/%s", len(dr),
		slices.Min(dr), slices.Max(dr), slices.Min(ct), slices.Max(ct))
}

// tmplAwaitWrite waits until dest is created or written with want, and
// returns when inotify told of it.
func tmplAwaitWrite(b *testing.B, w *fsnotify.Watcher, dest, want string) time.Time {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		select {
		case ev := <-w.Events:
			at := time.Now()
			if ev.Name != dest || !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) {
				continue
			}
			if got, err := os.ReadFile(dest); err == nil && string(got) == want {
				return at
			}
		case err := <-w.Errors:
			b.Fatalf("inotify: %v", err)
		case <-ctx.Done():
			got, err := os.ReadFile(dest)
			b.Fatalf("%s not written with %q within 30s; it holds %q (%v)", dest, want, got, err)
		}
	}
}

// tmplPercentile is the nearest-rank percentile of ds.
func tmplPercentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// BenchmarkTemplateManyTemplates: 50 templates over 200 services (4 each),
// both programs running as daemons, each through its own counting proxy;
// 200 catalog changes, one service at a time, each awaited in both
// programs' files. Reports the HTTP requests each program sent to Consul
// and the CPU time it spent during the changes, and peak RSS. Targets:
// drcon's CPU at most a fifth of consul-template's, with no more requests.
func BenchmarkTemplateManyTemplates(b *testing.B) {
	const templates, services, perTemplate, nodes = 50, 200, 4, 2
	tools := tmplFindTools(b)
	c := testenv.StartConsul(b)
	cl := tmplClient(b, c.Addr)
	var ins []tmplInstance
	for s := range services {
		for n := range nodes {
			node, _ := tmplNode(n)
			ins = append(ins, tmplInstance{node: node, service: fmt.Sprintf("svc-%03d", s),
				id: fmt.Sprintf("svc-%03d-%d", s, n), port: 20000 + n})
		}
	}
	tmplRegister(b, cl, nodes, ins)

	dir := b.TempDir()
	var ctT, drT []string
	for t := range templates {
		var body strings.Builder
		for s := t * perTemplate; s < (t+1)*perTemplate; s++ {
			fmt.Fprintf(&body, "upstream svc-%03d {\n  least_conn;\n{{- range service \"svc-%03d\" }}\n  server {{ .Address }}:{{ .Port }};\n{{- end }}\n}\n", s, s)
		}
		src := filepath.Join(dir, fmt.Sprintf("t%02d.ctmpl", t))
		tmplWrite(b, src, body.String())
		ctT = append(ctT, src+":"+tmplManyDest(dir, "ct", t))
		drT = append(drT, src+":"+tmplManyDest(dir, "drcon", t))
	}
	ctProxy := testenv.StartProxy(b, c.Addr)
	drProxy := testenv.StartProxy(b, c.Addr)
	ctProc := tmplDaemon(b, "consul-template", tools.ct, tmplArgs(ctProxy.Addr, ctT...)...)
	drProc := tmplDaemon(b, "drcon", tools.drcon, tmplArgs(drProxy.Addr, drT...)...)
	for t := range templates {
		for _, who := range []string{"ct", "drcon"} {
			tmplAwaitFile(b, tmplManyDest(dir, who, t), fmt.Sprintf(":%d;", 20000+nodes-1))
		}
	}
	// Steady state: one blocking query per service in each program.
	for _, p := range []*testenv.Proxy{ctProxy, drProxy} {
		testenv.WaitFor(b, time.Minute, "a blocking query per service", func() bool {
			open, distinct := p.Blocking()
			return open == services && distinct == services
		})
	}

	ctProxy.Reset()
	drProxy.Reset()
	ct0, dr0 := tmplProcUsage(b, ctProc.Cmd.Process.Pid), tmplProcUsage(b, drProc.Cmd.Process.Pid)
	b.ResetTimer()
	for i := range services * b.N {
		s := i % services
		port := 30000 + i
		node, _ := tmplNode(0)
		op := &api.TxnOp{Service: &api.ServiceTxnOp{Verb: api.ServiceSet, Node: node,
			Service: api.AgentService{ID: fmt.Sprintf("svc-%03d-0", s), Service: fmt.Sprintf("svc-%03d", s),
				Port: port, Tags: []string{"bench"}}}}
		tmplTxn(b, cl, api.TxnOps{op})
		for _, who := range []string{"ct", "drcon"} {
			tmplAwaitFile(b, tmplManyDest(dir, who, s/perTemplate), fmt.Sprintf(":%d;", port))
		}
	}
	// Both have asked again for what changed: every request is counted.
	for _, p := range []*testenv.Proxy{ctProxy, drProxy} {
		testenv.WaitFor(b, time.Minute, "a blocking query per service", func() bool {
			open, distinct := p.Blocking()
			return open == services && distinct == services
		})
	}
	b.StopTimer()
	ct1, dr1 := tmplProcUsage(b, ctProc.Cmd.Process.Pid), tmplProcUsage(b, drProc.Cmd.Process.Pid)
	n := float64(b.N)
	tmplReport(b, "requests", "n", float64(drProxy.Requests())/n, float64(ctProxy.Requests())/n)
	tmplReport(b, "cpu", "ms", tmplMS(dr1.cpu-dr0.cpu)/n, tmplMS(ct1.cpu-ct0.cpu)/n)
	tmplReport(b, "maxrss", "MB", tmplMB(dr1.maxRSS), tmplMB(ct1.maxRSS))
}

func tmplManyDest(dir, who string, t int) string {
	return filepath.Join(dir, who, fmt.Sprintf("t%02d.conf", t))
}

// tmplAwaitFile waits until path holds want.
func tmplAwaitFile(b *testing.B, path, want string) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := os.ReadFile(path)
		if err == nil && bytes.Contains(got, []byte(want)) {
			return
		}
		if time.Now().After(deadline) {
			if errors.Is(err, os.ErrNotExist) {
				b.Fatalf("%s was never written", path)
			}
			b.Fatalf("%s does not hold %q after a minute:\n%s", path, want, got)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// tmplClient is a Consul client that keeps its connections, so that the
// benchmark's own writes do not pay for a new one each.
func tmplClient(b *testing.B, addr string) *api.Client {
	b.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cl, err := api.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cl
}
