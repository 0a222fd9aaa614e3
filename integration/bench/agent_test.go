// The agent's targets, measured on the drcon binary and, for comparison,
// on consul-template v0.41.1 doing the same:
//
//	go test -run '^$' -bench AgentReload -benchtime 20x ./integration/bench/
//	go test -run '^$' -bench AgentIdle -benchtime 1x ./integration/bench/
//
// BenchmarkAgentReload: a configuration of 50 template jobs, one of which
// is edited before each SIGHUP; the time from the signal to that job's new
// render on disk (target: under 50 ms) and the Consul requests the reload
// caused (target: none, its dependencies stay watched).
//
// BenchmarkAgentIdle: 50 template jobs and a registrator block, idle for
// 30 s: resident memory and CPU (targets: under 30 MB and under 1% of one
// core). It samples one window whatever b.N.

package bench

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

const (
	agentJobs = 50
	// agentIdle is how long the idle benchmark samples a process.
	agentIdle = 30 * time.Second
)

// agentTemplate is job i's template: a key of its own, a key and a
// service every job shares, and a mark that edits change.
func agentTemplate(i int, mark string) string {
	return fmt.Sprintf(`# %s
shared={{ key "bench/shared" }} own={{ key "bench/job%d" }}
{{ range service "web" }}server {{ .Address }}:{{ .Port }};
{{ end }}`, mark, i)
}

// agentSeed writes the data every job reads.
func agentSeed(b *testing.B, c *testenv.Consul) {
	b.Helper()
	c.PutKV("bench/shared", "s")
	for i := range agentJobs {
		c.PutKV(fmt.Sprintf("bench/job%d", i), strconv.Itoa(i))
	}
	for i := range 3 {
		c.Register(&api.AgentServiceRegistration{ID: fmt.Sprintf("web-%d", i), Name: "web",
			Address: "127.0.0.1", Port: 8000 + i})
	}
}

// agentDrconConfig is drcon's configuration of the 50 jobs; marks[i] is in
// job i's template. The blocking query wait is long so that no query ends
// by itself while requests are counted.
func agentDrconConfig(dir, addr string, marks []string, extra string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "consul { address = %q }\nblock_query_wait = \"5m\"\n%s", addr, extra)
	for i, m := range marks {
		fmt.Fprintf(&s, "template \"job%d\" {\n  contents    = %q\n  destination = %q\n}\n",
			i, agentTemplate(i, m), filepath.Join(dir, fmt.Sprintf("out/job%d.conf", i)))
	}
	return s.String()
}

// agentCTConfig is consul-template's configuration of the same jobs, from
// template files it reads at start and on SIGHUP.
func agentCTConfig(b *testing.B, dir, addr string, marks []string) string {
	b.Helper()
	var s strings.Builder
	fmt.Fprintf(&s, "consul { address = %q }\nblock_query_wait = \"5m\"\nlog_level = \"err\"\n", addr)
	for i, m := range marks {
		src := filepath.Join(dir, fmt.Sprintf("job%d.ctmpl", i))
		agentWrite(b, src, agentTemplate(i, m))
		fmt.Fprintf(&s, "template {\n  source      = %q\n  destination = %q\n}\n",
			src, filepath.Join(dir, fmt.Sprintf("out/job%d.conf", i)))
	}
	return s.String()
}

func agentWrite(b *testing.B, path, content string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

func agentMarks(mark string) []string {
	m := make([]string, agentJobs)
	for i := range m {
		m[i] = mark
	}
	return m
}

// agentAwait waits for path (in a directory w watches) to start with want
// and returns when it was seen.
func agentAwait(b *testing.B, w *fsnotify.Watcher, path, want string) time.Time {
	b.Helper()
	deadline := time.After(time.Minute)
	for {
		if got, err := os.ReadFile(path); err == nil && strings.HasPrefix(string(got), want) {
			return time.Now()
		}
		select {
		case <-w.Events:
		case err := <-w.Errors:
			b.Fatalf("watch %s: %v", path, err)
		case <-deadline:
			b.Fatalf("%s never got %q", path, want)
		}
	}
}

// agentAllRendered waits until every job's destination holds its mark.
func agentAllRendered(b *testing.B, dir string, marks []string) {
	b.Helper()
	testenv.WaitFor(b, time.Minute, "every job's first render", func() bool {
		for i, m := range marks {
			got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("out/job%d.conf", i)))
			if err != nil || !strings.HasPrefix(string(got), "# "+m+"\n") {
				return false
			}
		}
		return true
	})
}

// agentSteady waits until every distinct dependency has its blocking query
// open: the 50 own keys, the shared key and the service.
func agentSteady(b *testing.B, p *testenv.Proxy) {
	b.Helper()
	testenv.WaitFor(b, time.Minute, "every blocking query open", func() bool {
		_, distinct := p.Blocking()
		return distinct == agentJobs+2
	})
}

func BenchmarkAgentReload(b *testing.B) {
	c := testenv.StartConsul(b)
	agentSeed(b, c)
	for _, who := range []string{"drcon", "consul-template"} {
		b.Run(who, func(b *testing.B) {
			proxy := testenv.StartProxy(b, c.Addr)
			dir := b.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
				b.Fatal(err)
			}
			marks := agentMarks("v0")
			conf := filepath.Join(dir, "config.hcl")
			writeConf := func() {
				if who == "drcon" {
					agentWrite(b, conf, agentDrconConfig(dir, proxy.Addr, marks, ""))
				} else {
					agentWrite(b, conf, agentCTConfig(b, dir, proxy.Addr, marks))
				}
			}
			writeConf()
			bin := testenv.Drcon(b)
			if who == "consul-template" {
				bin = testenv.ConsulTemplate(b)
			}
			p := testenv.Start(b, who, exec.Command(bin, "-config", conf))
			agentAllRendered(b, dir, marks)
			agentSteady(b, proxy)
			w, err := fsnotify.NewWatcher()
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			if err := w.Add(filepath.Join(dir, "out")); err != nil {
				b.Fatal(err)
			}

			var lat []time.Duration
			requests := 0
			b.ResetTimer()
			for n := range b.N {
				job := n % agentJobs
				marks[job] = fmt.Sprintf("v%d", n+1)
				writeConf()
				proxy.Reset()
				start := time.Now()
				if err := p.Signal(syscall.SIGHUP); err != nil {
					b.Fatal(err)
				}
				seen := agentAwait(b, w, filepath.Join(dir, fmt.Sprintf("out/job%d.conf", job)), "# "+marks[job]+"\n")
				lat = append(lat, seen.Sub(start))
				// consul-template starts over: let it settle before the next
				// signal, and count what it asked for meanwhile.
				agentSteady(b, proxy)
				requests += proxy.Requests()
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(agentMS(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(agentMS(lat[len(lat)-1]), "max-ms")
			b.ReportMetric(float64(requests)/float64(b.N), "consul-requests/reload")
		})
	}
}

func BenchmarkAgentIdle(b *testing.B) {
	c := testenv.StartConsul(b)
	agentSeed(b, c)
	testenv.Docker(b)
	// drcon runs twice: with the same 50 templates as consul-template and
	// nothing else, and with a registrator beside them, as it replaces both.
	for _, who := range []string{"drcon", "drcon-templates-only", "consul-template"} {
		b.Run(who, func(b *testing.B) {
			dir := b.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
				b.Fatal(err)
			}
			marks := agentMarks("idle")
			conf := filepath.Join(dir, "config.hcl")
			bin := testenv.Drcon(b)
			switch who {
			case "drcon":
				// The registrator watches the shared engine but registers only
				// containers labelled for it: none.
				agentWrite(b, conf, agentDrconConfig(dir, c.Addr, marks,
					"registrator \"docker\" {\n  filter = { \"drcon.bench.idle\" = \"none\" }\n}\n"))
			case "drcon-templates-only":
				agentWrite(b, conf, agentDrconConfig(dir, c.Addr, marks, ""))
			default:
				agentWrite(b, conf, agentCTConfig(b, dir, c.Addr, marks))
				bin = testenv.ConsulTemplate(b)
			}
			p := testenv.Start(b, who, exec.Command(bin, "-config", conf))
			agentAllRendered(b, dir, marks)
			// One window, whatever b.N: idling does not repeat.
			pid := p.Cmd.Process.Pid
			before := agentCPU(b, pid)
			start := time.Now()
			time.Sleep(agentIdle)
			cpu := (agentCPU(b, pid) - before).Seconds() / time.Since(start).Seconds() * 100
			rss, hwm, anon := agentMemory(b, pid)
			b.ReportMetric(rss, "rss-MB")
			b.ReportMetric(hwm, "peak-rss-MB")
			b.ReportMetric(anon, "anon-rss-MB")
			b.ReportMetric(cpu, "%-of-a-core")
		})
	}
}

// agentCPU is the CPU time pid has used, user and system.
func agentCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	i := strings.LastIndexByte(string(stat), ')')
	f := strings.Fields(string(stat[i+2:]))
	if len(f) < 13 {
		b.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("/proc/%d/stat: %v", pid, err)
	}
	// Clock ticks: 100 per second on Linux (USER_HZ).
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// agentMemory is pid's resident memory now, at its peak, and the part of
// it that is not pages of the executable or libraries, in MB.
func agentMemory(b *testing.B, pid int) (rss, hwm, anon float64) {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			hwm = kb / 1024
		case "RssAnon:":
			anon = kb / 1024
		}
	}
	return rss, hwm, anon
}

func agentMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
