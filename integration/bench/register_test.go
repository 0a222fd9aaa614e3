// The registrator's benchmarks:
//
//	go test -run '^$' -bench Register ./integration/bench/

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs/register"
	"github.com/hashicorp/consul/api"
)

// regRunLabel marks the containers of one benchmark; its job filters on it,
// and cleanup removes by it. regLabel lets a crashed run be cleaned up with
// `docker rm -f $(docker ps -aq --filter label=drcon.bench=register)`.
const (
	regLabel    = "drcon.bench"
	regRunLabel = "drcon.bench.run"
)

// regBench is one registrator benchmark's Consul agent and containers.
type regBench struct {
	b      *testing.B
	consul *testenv.Consul
	api    *api.Client
	image  string
	run    string
}

func newRegBench(b *testing.B) *regBench {
	b.Helper()
	testenv.Docker(b)
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	r := &regBench{b: b, image: testenv.BuildWhoami(b), run: hex.EncodeToString(id)}
	r.consul = testenv.StartConsul(b)
	r.api = r.consul.Client()
	b.Cleanup(r.removeAll)
	return r
}

// startJob runs a registrator job for this benchmark's containers, with
// Consul reached through client, until the benchmark ends.
func (r *regBench) startJob(client *api.Client, adjust func(*config.Registrator)) *register.Job {
	r.b.Helper()
	cfg := &config.Registrator{Name: "bench", Cleanup: true, Deregister: "always",
		Filter: map[string]string{regRunLabel: r.run}}
	if adjust != nil {
		adjust(cfg)
	}
	job, err := register.New(cfg, client, register.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		r.b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = job.Run(ctx)
	}()
	r.b.Cleanup(func() { cancel(); <-done })
	testenv.WaitFor(r.b, 30*time.Second, "the job's first reconcile", func() bool { return job.Status().Ready })
	return job
}

// dockerRun runs `docker run -d` and returns the container ID and when the
// command returned.
func (r *regBench) dockerRun(opts ...string) (string, time.Time) {
	args := append([]string{"run", "-d", "--label", regLabel + "=register", "--label", regRunLabel + "=" + r.run}, opts...)
	out, err := exec.Command("docker", append(args, r.image)...).CombinedOutput()
	returned := time.Now()
	if err != nil {
		r.b.Fatalf("docker run: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out)), returned
}

// startMany starts n containers, conc at a time, and returns when the last
// `docker run` returned.
func (r *regBench) startMany(n, conc int, opts ...string) time.Time {
	var mu sync.Mutex
	var last time.Time
	var wg sync.WaitGroup
	sem := make(chan struct{}, conc)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, at := r.dockerRun(opts...)
			mu.Lock()
			if at.After(last) {
				last = at
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return last
}

func (r *regBench) removeAll() {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label="+regRunLabel+"="+r.run).Output()
	ids := strings.Fields(string(out))
	for len(ids) > 0 {
		n := min(len(ids), 50)
		_ = exec.Command("docker", append([]string{"rm", "-f"}, ids[:n]...)...).Run()
		ids = ids[n:]
	}
}

// waitCatalog follows the catalog with blocking queries from index until
// service has n instances, and returns when it saw them.
func waitCatalog(ctx context.Context, client *api.Client, service string, n int, index uint64) (time.Time, error) {
	for {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: 10 * time.Second}).WithContext(ctx)
		s, meta, err := client.Catalog().Service(service, "", q)
		now := time.Now()
		if err != nil {
			return now, err
		}
		if len(s) >= n {
			return now, nil
		}
		index = meta.LastIndex
	}
}

// agentCount waits until the agent has n services of drcon.
func waitAgent(b *testing.B, client *api.Client, n int, limit time.Duration) {
	b.Helper()
	testenv.WaitFor(b, limit, fmt.Sprintf("%d services on the agent", n), func() bool {
		s, err := client.Agent().ServicesWithFilter(`Meta["drcon-owner"] != ""`)
		return err == nil && len(s) == n
	})
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1)*p + 0.5)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkRegisterDockerRun: from `docker run` returning to the service
// being in Consul's catalog, over 30 runs; 0 when it was there before the
// command returned, which %-before-cli-returned counts. gliderlabs/registrator
// measured here: 2.6 ms p50, 4.4 ms p99.
func BenchmarkRegisterDockerRun(b *testing.B) {
	r := newRegBench(b)
	r.startJob(r.api, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var lat []time.Duration
	early := 0
	b.ResetTimer()
	for i := range 30 * b.N {
		name := "bench-run-" + strconv.Itoa(i)
		_, meta, err := r.api.Catalog().Service(name, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		seen := make(chan time.Time, 1)
		go func() {
			at, err := waitCatalog(ctx, r.api, name, 1, meta.LastIndex)
			if err != nil {
				b.Error(err)
			}
			seen <- at
		}()
		id, returned := r.dockerRun("-p", "127.0.0.1::80", "-e", "DRAIN=0s", "--label", "SERVICE_NAME="+name)
		d := (<-seen).Sub(returned)
		if d < 0 {
			early++
		}
		lat = append(lat, max(0, d))
		b.StopTimer()
		_ = exec.Command("docker", "rm", "-f", id).Run()
		waitAgent(b, r.api, 0, 30*time.Second)
		b.StartTimer()
	}
	b.ReportMetric(ms(percentile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(float64(early)/float64(len(lat))*100, "%-before-cli-returned")
	b.Logf("latencies: %v", lat)
}

// BenchmarkRegisterBurst50: 50 containers started at once; from the last
// `docker run` returning to all 50 in the catalog.
func BenchmarkRegisterBurst50(b *testing.B) {
	r := newRegBench(b)
	r.startJob(r.api, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := "bench-burst-" + strconv.Itoa(i)
		_, meta, err := r.api.Catalog().Service(name, "", nil)
		if err != nil {
			b.Fatal(err)
		}
		seen := make(chan time.Time, 1)
		go func() {
			at, err := waitCatalog(ctx, r.api, name, 50, meta.LastIndex)
			if err != nil {
				b.Error(err)
			}
			seen <- at
		}()
		last := r.startMany(50, 50, "-p", "127.0.0.1::80", "-e", "DRAIN=0s", "--label", "SERVICE_NAME="+name)
		lat = append(lat, max(0, (<-seen).Sub(last)))
		b.StopTimer()
		r.removeAll()
		waitAgent(b, r.api, 0, time.Minute)
		b.StartTimer()
	}
	b.ReportMetric(ms(percentile(lat, 0.5)), "last-start-to-all-ms")
}

// BenchmarkRegisterResync200: with 200 containers running and registered,
// what a resync that finds nothing changed sends to Consul, counted by a
// proxy; and the peak RSS of a registrator process of its own that
// registers the 200 from scratch on another agent.
func BenchmarkRegisterResync200(b *testing.B) {
	r := newRegBench(b)
	proxy := testenv.StartProxy(b, r.consul.Addr)
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = proxy.Addr
	client, err := api.NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// Internal mode: no docker-proxy process for each of the 200.
	job := r.startJob(client, func(c *config.Registrator) { c.Internal, c.Resync = true, time.Second })
	r.startMany(200, 16, "-e", "DRAIN=0s")
	waitAgent(b, r.api, 200, 2*time.Minute)

	// The setup stays in the timing so that one iteration passes the
	// benchtime and the 200 containers are started once.
	var writes, requests int
	resyncs := 3 * b.N
	for range resyncs {
		// Reset just after one resync ended: the next starts a resync
		// period later and is counted whole, and alone.
		prev := job.Status().LastSync
		testenv.WaitFor(b, time.Minute, "a resync", func() bool { return job.Status().LastSync.After(prev) })
		proxy.Reset()
		prev = job.Status().LastSync
		testenv.WaitFor(b, time.Minute, "the next resync", func() bool { return job.Status().LastSync.After(prev) })
		writes += proxy.PathCount("/v1/agent/service/register") + proxy.PathCount("/v1/agent/service/deregister") +
			proxy.PathCount("/v1/agent/service/maintenance") + proxy.PathCount("/v1/agent/check/")
		requests += proxy.Requests()
	}
	b.ReportMetric(float64(writes)/float64(resyncs), "writes/resync")
	b.ReportMetric(float64(requests)/float64(resyncs), "requests/resync")
	b.ReportMetric(peakRSS(b, r, 200), "peak-rss-MB")
}

// peakRSS runs a registrator alone in a process (testdata/register/rssjob)
// against a fresh agent, lets it register the n running containers and
// follow 20 more coming and going, and returns its peak RSS.
func peakRSS(b *testing.B, r *regBench, n int) float64 {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "rssjob")
	build := exec.Command("go", "build", "-o", bin, "./integration/bench/testdata/register/rssjob")
	build.Dir = testenv.RepoRoot(b)
	build.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build rssjob: %v\n%s", err, out)
	}
	fresh := testenv.StartConsul(b)
	p := testenv.Start(b, "rssjob", exec.Command(bin, "-consul", fresh.Addr, "-filter", regRunLabel+"="+r.run, "-internal"))
	client := fresh.Client()
	waitAgent(b, client, n, 2*time.Minute)
	r.startMany(20, 10, "-e", "DRAIN=0s", "--label", "churn=1")
	waitAgent(b, client, n+20, time.Minute)
	out, _ := exec.Command("docker", "ps", "-q", "--filter", "label=churn=1", "--filter", "label="+regRunLabel+"="+r.run).Output()
	_ = exec.Command("docker", append([]string{"rm", "-f"}, strings.Fields(string(out))...)...).Run()
	waitAgent(b, client, n, time.Minute)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			if err != nil {
				b.Fatal(err)
			}
			return float64(v) / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// BenchmarkRegisterConsulRestart: a dev agent that restarts forgets every
// service; the time from the restarted agent answering to all 20 of the
// job's services being registered again.
func BenchmarkRegisterConsulRestart(b *testing.B) {
	r := newRegBench(b)
	r.startJob(r.api, nil)
	r.startMany(20, 10, "-p", "127.0.0.1::80", "-e", "DRAIN=0s")
	waitAgent(b, r.api, 20, time.Minute)
	var lat []time.Duration
	b.ResetTimer()
	for range 3 * b.N {
		r.consul.Restart()
		answered := time.Now()
		for {
			s, err := r.api.Agent().ServicesWithFilter(`Meta["drcon-owner"] != ""`)
			if err == nil && len(s) == 20 {
				break
			}
			if time.Since(answered) > time.Minute {
				b.Fatal("services not back after a minute")
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(answered))
	}
	b.ReportMetric(ms(percentile(lat, 0.5)), "p50-ms")
	b.ReportMetric(ms(slices.Max(lat)), "max-ms")
}
