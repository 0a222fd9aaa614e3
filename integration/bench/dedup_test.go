// The dedup benchmark: many agents with the same templates, without dedup,
// with dedup, and with consul { use_cache = true }:
//
//	go test -run '^$' -bench Dedup -benchtime 30x -timeout 30m ./integration/bench/

package bench

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dedup"
)

const (
	dedupAgents    = 20
	dedupTemplates = 10
	dedupServices  = 30 // each template renders 4 of them; together all 30
	// dedupQuiet lets the queries a change set off finish before they are counted.
	dedupQuiet = 500 * time.Millisecond
)

// BenchmarkDedup runs 20 drcon agents of 10 templates over 30 services,
// all through one counting proxy in front of one Consul agent, and changes
// one service at a time (b.N changes: a new instance). For each mode it
// reports the blocking queries held open at steady state, and per change
// the requests and response bytes through the proxy and the time from the
// change to the agents' files. With dedup it also reports the followers' lag behind the
// leader and the hand-over after the leader is killed with SIGKILL.
//
// All agents share one Consul agent here, as they cannot on separate hosts:
// use_cache then serves every agent from one cache, which flatters it; on a
// fleet each host's Consul agent keeps its own cache.
func BenchmarkDedup(b *testing.B) {
	bin := dedupBuild(b)
	for _, mode := range []string{"none", "dedup", "use_cache"} {
		b.Run("mode="+mode, func(b *testing.B) {
			c := testenv.StartConsul(b)
			p := testenv.StartProxy(b, c.Addr)
			for s := range dedupServices {
				for i := range 2 {
					c.Register(dedupInstance(s, fmt.Sprintf("seed%d", i), 8000+100*s+i))
				}
			}
			fleet := dedupStart(b, bin, p.Addr, mode)
			fleet.waitRendered(b, "seed1")
			leader := -1
			if mode == "dedup" {
				leader = fleet.waitSettled(b)
			}
			open := dedupSteady(b, p)

			var all, leaderLat, followerLat, lag []time.Duration
			var requests int
			var bytes int64
			cpu := fleet.cpu(b)
			for n := range b.N {
				svc := n % dedupServices
				id := fmt.Sprintf("chg%d", n)
				p.Reset()
				start := time.Now()
				c.Register(dedupInstance(svc, id, 20000+n))
				seen := fleet.await(b, svc, id, start, nil)
				time.Sleep(dedupQuiet)
				requests += p.Requests()
				bytes += p.Bytes()
				for i, d := range seen {
					all = append(all, d)
					switch {
					case i == leader:
						leaderLat = append(leaderLat, d)
					case leader >= 0:
						followerLat = append(followerLat, d)
						lag = append(lag, d-seen[leader])
					}
				}
			}
			b.ReportMetric(ms(fleet.cpu(b)-cpu)/float64(b.N), "agents-cpu-ms/change")
			b.ReportMetric(float64(open), "blocking-open")
			b.ReportMetric(float64(requests)/float64(b.N), "requests/change")
			b.ReportMetric(float64(bytes)/1024/float64(b.N), "KB/change")
			b.ReportMetric(ms(percentile(all, 0.5)), "p50-ms")
			b.ReportMetric(ms(percentile(all, 0.99)), "p99-ms")
			if mode != "dedup" {
				return
			}
			b.ReportMetric(ms(percentile(leaderLat, 0.5)), "leader-p50-ms")
			b.ReportMetric(ms(percentile(followerLat, 0.5)), "follower-p50-ms")
			b.ReportMetric(ms(percentile(lag, 0.5)), "follower-lag-p50-ms")

			// The leader dies; the next change must still reach the others.
			fleet.procs[leader].Kill()
			start := time.Now()
			c.Register(dedupInstance(0, "after-kill", 30000))
			seen := fleet.await(b, 0, "after-kill", start, map[int]bool{leader: true})
			times := slices.Collect(maps.Values(seen))
			b.ReportMetric(ms(slices.Min(times)), "failover-first-ms")
			b.ReportMetric(ms(slices.Max(times)), "failover-all-ms")
			b.ReportMetric(dedup.DefaultTTL.Seconds()*1000, "ttl-ms")
		})
	}
}

// dedupInstance is instance id of service s.
func dedupInstance(s int, id string, port int) *api.AgentServiceRegistration {
	name := fmt.Sprintf("svc%02d", s)
	return &api.AgentServiceRegistration{ID: name + "-" + id, Name: name, Address: "127.0.0.1", Port: port}
}

// dedupTemplate renders services 3t to 3t+3 (wrapping): service s is in
// template s/3 (and in the one before).
func dedupTemplate(t int) string {
	var b strings.Builder
	for k := range 4 {
		fmt.Fprintf(&b, "{{ range service \"svc%02d\" }}{{ .ID }} {{ .Address }}:{{ .Port }}\n{{ end }}", (3*t+k)%dedupServices)
	}
	return b.String()
}

// dedupBuild builds drcon without the race detector: twenty of them share
// two cores.
func dedupBuild(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "drcon")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/drcon")
	cmd.Dir = testenv.RepoRoot(b)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build drcon: %v\n%s", err, out)
	}
	return bin
}

// dedupFleet is the agents of one mode.
type dedupFleet struct {
	dirs   []string
	status []string
	procs  []*testenv.Process
	w      *fsnotify.Watcher
}

func dedupStart(b *testing.B, bin, addr, mode string) *dedupFleet {
	b.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	f := &dedupFleet{w: w}
	consul, share := fmt.Sprintf("address = %q", addr), ""
	switch mode {
	case "dedup":
		share = "dedup { enabled = true }"
	case "use_cache":
		consul += "\n  use_cache = true"
	}
	for i := range dedupAgents {
		dir := b.TempDir()
		status := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(b))
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "log_level = \"warn\"\nconsul {\n  %s\n}\nstatus { address = %q }\n%s\n", consul, status, share)
		for t := range dedupTemplates {
			fmt.Fprintf(&cfg, "template \"t%d\" {\n  contents = <<-EOT\n%s\nEOT\n  destination = %q\n}\n",
				t, dedupTemplate(t), filepath.Join(dir, fmt.Sprintf("t%d.out", t)))
		}
		path := filepath.Join(dir, "drcon.hcl")
		if err := os.WriteFile(path, []byte(cfg.String()), 0o644); err != nil {
			b.Fatal(err)
		}
		if err := w.Add(dir); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, "-config", path)
		cmd.Dir = dir
		f.dirs, f.status = append(f.dirs, dir), append(f.status, status)
		f.procs = append(f.procs, testenv.Start(b, "drcon-"+strconv.Itoa(i), cmd))
	}
	return f
}

// cpu is the CPU time the agents used so far, all together.
func (f *dedupFleet) cpu(b *testing.B) time.Duration {
	b.Helper()
	var sum time.Duration
	for _, p := range f.procs {
		sum += agentCPU(b, p.Cmd.Process.Pid)
	}
	return sum
}

// waitRendered waits until every agent's every file holds an instance id.
func (f *dedupFleet) waitRendered(b *testing.B, id string) {
	b.Helper()
	testenv.WaitFor(b, 2*time.Minute, "every agent's first renders", func() bool {
		for i, p := range f.procs {
			select {
			case <-p.Done():
				b.Fatalf("drcon-%d exited:\n%s", i, p.Output())
			default:
			}
		}
		for _, dir := range f.dirs {
			for t := range dedupTemplates {
				got, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("t%d.out", t)))
				if strings.Count(string(got), id) != 4 {
					return false
				}
			}
		}
		return true
	})
}

// waitSettled waits for one leader and every other agent answering from
// its data, and returns the leader.
func (f *dedupFleet) waitSettled(b *testing.B) int {
	b.Helper()
	leader := -1
	testenv.WaitFor(b, 2*time.Minute, "one leader, the others on its data", func() bool {
		leader = -1
		for i, addr := range f.status {
			s, ok := dedupStatus(addr)
			switch {
			case !ok:
				return false
			case s.Role == dedup.RoleLeader && leader < 0:
				leader = i
			case s.Role != dedup.RoleFollower || s.Fallback != "" || s.Shared != dedupServices:
				return false
			}
		}
		return leader >= 0
	})
	return leader
}

func dedupStatus(addr string) (dedup.Status, bool) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/v1/status")
	if err != nil {
		return dedup.Status{}, false
	}
	defer resp.Body.Close()
	var st agent.Status
	if json.NewDecoder(resp.Body).Decode(&st) != nil || st.Dedup == nil {
		return dedup.Status{}, false
	}
	return *st.Dedup, true
}

// await waits until every agent but those in skip has instance id of
// service svc in its file, and returns how long after start each one's
// file had it, by agent.
func (f *dedupFleet) await(b *testing.B, svc int, id string, start time.Time, skip map[int]bool) map[int]time.Duration {
	b.Helper()
	file := fmt.Sprintf("t%d.out", svc/3)
	want := fmt.Sprintf("svc%02d-%s ", svc, id)
	seen := map[int]time.Duration{}
	check := func() {
		for i, dir := range f.dirs {
			if _, done := seen[i]; done || skip[i] {
				continue
			}
			if got, _ := os.ReadFile(filepath.Join(dir, file)); strings.Contains(string(got), want) {
				seen[i] = time.Since(start)
			}
		}
	}
	deadline := time.After(2 * time.Minute)
	for check(); len(seen)+len(skip) < len(f.dirs); check() {
		// An error (the kernel's queue overflowed) is only a reason to look again.
		select {
		case <-f.w.Events:
		case <-f.w.Errors:
		case <-deadline:
			b.Fatalf("%d of %d agents rendered %s", len(seen), len(f.dirs)-len(skip), want)
		}
	}
	return seen
}

// dedupSteady waits until the blocking queries held open stop changing
// and returns how many there are.
func dedupSteady(b *testing.B, p *testenv.Proxy) int {
	b.Helper()
	last, since := -1, time.Now()
	testenv.WaitFor(b, 2*time.Minute, "a steady number of blocking queries", func() bool {
		open, _ := p.Blocking()
		if open != last {
			last, since = open, time.Now()
		}
		return time.Since(since) > 3*time.Second
	})
	return last
}
