// The propagation benchmark of the DR CoN chain:
//
//	go test -run '^$' -bench Propagation -benchtime 1x ./integration/bench/

package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
)

// propRuns is the number of containers each chain starts.
const propRuns = 30

// BenchmarkPropagation: from `docker run` returning to the first request
// that the new container serves through nginx, with one instance already
// serving, over 30 runs: the whole chain of examples/drcon.hcl (Docker
// event, registration, Consul, the watcher, render, nginx -t on the
// candidate, nginx reload). Once with quiescence off and once with the
// example's wait; each time beside the same chain with consul-template
// v0.41.1 rendering the same nginx.ctmpl in place of drcon's template job
// (drcon still registers). consul-template has no check before the file
// goes live: its command runs the example's check, on the live file, then
// the example's reload command, as its users write "configtest && reload".
// The two chains run side by side, each on its own Consul and nginx, and
// take turns, so that the load of the machine weighs on both alike.
//
// A negative time is a request served before `docker run` returned.
// drcon-reload-p50-ms is drcon's own share: from `docker run` returning to
// its reload command having run; nginx takes the rest to put the new
// configuration in service.
func BenchmarkPropagation(b *testing.B) {
	cfg, err := config.Load([]string{filepath.Join(testenv.RepoRoot(b), "examples", "drcon.hcl")}, config.Overrides{})
	if err != nil {
		b.Fatal(err)
	}
	example := cfg.Templates[0]
	exampleWait := example.Wait
	for _, w := range []struct {
		name  string
		edits []demo.Edit
		wait  config.Wait
	}{
		{"wait=off", []demo.Edit{demo.NoWait()}, config.Wait{}},
		{fmt.Sprintf("wait=%s:%s", exampleWait.Min, exampleWait.Max), nil, exampleWait},
	} {
		b.Run(w.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
			defer cancel()
			drcon := newPropChain(ctx, b, w.edits, nil)
			ct := newPropChain(ctx, b, []demo.Edit{demo.NoTemplates()}, func(st *demo.Stack) {
				startConsulTemplate(b, st, example, w.wait)
			})
			b.ResetTimer()
			for range propRuns * b.N {
				drcon.measure(ctx)
				ct.measure(ctx)
			}
			b.StopTimer()
			b.ReportMetric(ms(percentile(drcon.lat, 0.5)), "drcon-p50-ms")
			b.ReportMetric(ms(percentile(drcon.lat, 0.99)), "drcon-p99-ms")
			b.ReportMetric(ms(percentile(drcon.reloaded, 0.5)), "drcon-reload-p50-ms")
			b.ReportMetric(ms(percentile(ct.lat, 0.5)), "ct-p50-ms")
			b.ReportMetric(ms(percentile(ct.lat, 0.99)), "ct-p99-ms")
			b.ReportMetric(float64(percentile(drcon.lat, 0.5))/float64(percentile(ct.lat, 0.5)), "p50-drcon/ct")
			b.ReportMetric(float64(drcon.failed+ct.failed), "failed-requests")
			b.Logf("drcon: %v", drcon.lat)
			b.Logf("consul-template: %v", ct.lat)
		})
	}
}

// propChain is one DR CoN stack whose propagation is measured.
type propChain struct {
	b     *testing.B
	st    *demo.Stack
	image string
	args  []string
	load  demo.Load
	// drcon renders: its status tells when its reload command ran.
	drconRenders bool

	lat      []time.Duration // docker run returned -> first request served
	reloaded []time.Duration // docker run returned -> drcon's reload command done
	failed   int
}

// newPropChain starts a stack of examples/drcon.hcl with edits (render, if
// set, starts what renders nginx.ctmpl in drcon's place) and one instance
// of the service, and returns once that instance serves through nginx.
func newPropChain(ctx context.Context, b *testing.B, edits []demo.Edit, render func(*demo.Stack)) *propChain {
	b.Helper()
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	label := hex.EncodeToString(id)
	root := testenv.RepoRoot(b)
	bins := demo.Binaries{Drcon: testenv.Drcon(b)}
	var err error
	if bins.Consul, err = testenv.ConsulBinary(); err != nil {
		testenv.Missing(b, "consul", "integration/scripts/build-consul.sh", err)
	}
	if bins.Nginx, err = testenv.NginxBinary(); err != nil {
		testenv.Missing(b, "nginx", "apt-get install -y nginx", err)
	}
	c := &propChain{b: b, image: testenv.BuildWhoami(b), drconRenders: render == nil,
		args: []string{"-p", "127.0.0.1::80", "-l", "SERVICE_NAME=whoami", "-l", "SERVICE_TAGS=http", "-e", "DRAIN=0s"}}
	c.st, err = demo.Start(ctx, demo.Options{Dir: b.TempDir(), Example: filepath.Join(root, "examples"),
		NginxConf: filepath.Join(root, "examples", "nginx.conf"), Binaries: bins, Label: label,
		Edits: append([]demo.Edit{demo.OnlyLabeled(demo.ContainerLabel, label)}, edits...)})
	if err != nil {
		b.Fatal(err)
	}
	// Cleanups run last first: what render started stops before the
	// stack's Consul and nginx go.
	b.Cleanup(func() {
		if err := c.st.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
	if render != nil {
		render(c.st)
	}
	if err := c.st.WaitProxy(ctx); err != nil {
		b.Fatal(err)
	}
	c.load = demo.Load{URL: "http://" + c.st.Paths.ProxyAddr + "/", Host: "whoami", Workers: 2,
		Interval: 2 * time.Millisecond, MaxRequests: 200000, Timeout: 30 * time.Second}
	c.served(ctx)
	c.settle()
	return c
}

// measure starts a second instance, records when it served its first
// request through nginx, removes it, and waits for the stack to settle.
func (c *propChain) measure(ctx context.Context) {
	b := c.b
	ctr, first, rec := c.served(ctx)
	c.lat = append(c.lat, first.Sub(ctr.Returned))
	if c.drconRenders {
		c.reloaded = append(c.reloaded, c.reloadDone().Sub(ctr.Returned))
	}
	for _, r := range rec.Results() {
		if r.Err != "" {
			c.failed++
			if c.failed == 1 {
				b.Logf("failed request, %s after docker run returned: %s", r.Sent.Sub(ctr.Returned), r.Err)
			}
		}
	}
	if _, err := demo.Docker(ctx, "rm", "-f", ctr.ID); err != nil {
		b.Fatal(err)
	}
	c.settle()
}

// served starts a container under a request loop and returns when it
// served a request through nginx, with the loop's results.
func (c *propChain) served(ctx context.Context) (demo.Container, time.Time, *demo.Recorder) {
	rec := demo.NewRecorder()
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.load.Run(lctx, rec) }()
	ctr, err := c.st.Run(ctx, c.image, c.args...)
	var first time.Time
	if err == nil {
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		first, err = rec.WaitFirst(wctx, ctr.Host())
		wcancel()
	}
	stop()
	if lerr := <-done; err == nil {
		err = lerr
	}
	if err != nil {
		c.b.Fatalf("%v (logs: %s)", err, c.st.Logs())
	}
	return ctr, first, rec
}

// settle waits until the rendered file names one instance, and then for
// the reload that put it in service to be done, and for nginx's old
// workers, which serve the configuration before it for 100 ms, to be gone.
func (c *propChain) settle() {
	c.b.Helper()
	testenv.WaitFor(c.b, time.Minute, "one instance in "+c.st.Destination, func() bool {
		data, err := os.ReadFile(c.st.Destination)
		if err != nil {
			return false
		}
		_, rest, _ := strings.Cut(string(data), "upstream whoami {")
		block, _, _ := strings.Cut(rest, "}")
		return strings.Count(block, "server 127.0.0.1:") == 1 && !strings.Contains(block, ":65535")
	})
	time.Sleep(300 * time.Millisecond)
}

// reloadDone is when drcon's reload command last finished, from its status.
func (c *propChain) reloadDone() time.Time {
	resp, err := http.Get("http://" + c.st.Paths.StatusAddr + "/v1/status")
	if err != nil {
		c.b.Fatal(err)
	}
	defer resp.Body.Close()
	var status struct {
		Jobs []struct {
			Name    string `json:"name"`
			Command *struct {
				At       time.Time     `json:"at"`
				Duration time.Duration `json:"duration_ns"`
			} `json:"command"`
		} `json:"jobs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		c.b.Fatal(err)
	}
	for _, j := range status.Jobs {
		if j.Name == "nginx" && j.Command != nil {
			return j.Command.At.Add(j.Command.Duration)
		}
	}
	c.b.Fatal("drcon's status has no command run of job nginx")
	return time.Time{}
}

// startConsulTemplate renders the stack's nginx.ctmpl with consul-template,
// with the wait, and with a command that runs the example's check on the
// live file and then the example's command.
func startConsulTemplate(b *testing.B, st *demo.Stack, example *config.Template, wait config.Wait) {
	b.Helper()
	bin := testenv.ConsulTemplate(b)
	dir := b.TempDir()
	check := filepath.Join(dir, "check.sh")
	if err := os.WriteFile(check, []byte(st.Paths.Rewrite(example.Check.Shell)), 0o644); err != nil {
		b.Fatal(err)
	}
	reload := example.Command.Shell
	if reload == "" {
		reload = strings.Join(example.Command.Argv, " ")
	}
	conf := fmt.Sprintf(`consul {
  address = %q
}
log_level = "warn"
template {
  source      = %q
  destination = %q
  command     = "DRCON_CANDIDATE=%s /bin/sh %s && %s"
}
`, st.Paths.ConsulAddr, filepath.Join(filepath.Dir(st.Config), "nginx.ctmpl"), st.Destination,
		st.Destination, check, st.Paths.Rewrite(reload))
	if wait.Enabled() {
		conf += fmt.Sprintf("wait {\n  min = %q\n  max = %q\n}\n", wait.Min, wait.Max)
	}
	path := filepath.Join(dir, "consul-template.hcl")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	nginx, err := testenv.NginxBinary()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", path)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(nginx)+":"+os.Getenv("PATH"))
	testenv.Start(b, "consul-template", cmd)
}
