// Package register tests drcon's registrator job against the real Docker
// engine and a real Consul agent: containers are started with the docker
// CLI, and what the job registered is read back from the agent.
package register

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
	"github.com/drcon/drcon/jobs/register"
	docker "github.com/fsouza/go-dockerclient"
	"github.com/hashicorp/consul/api"
)

// Every container a test starts carries testLabel, so that a crashed run can
// be cleaned up with
//
//	docker rm -f $(docker ps -aq --filter label=drcon.test=register)
//
// and runLabel with a value of its own test, which the job filters on:
// other tests share the engine.
const (
	testLabel = "drcon.test"
	runLabel  = "drcon.test.run"
)

// waitLimit bounds every wait for a registration to appear or go.
const waitLimit = 30 * time.Second

// env is one test's Consul agent, Docker engine and registrator job.
type env struct {
	t       *testing.T
	consul  *testenv.Consul
	api     *api.Client
	image   string
	runID   string
	host    string // DOCKER_HOST of the engine; "" for the default one
	cfg     *config.Registrator
	metrics *jobs.Metrics
	job     *register.Job
	stopJob func()
}

// newEnv starts a Consul agent (with opts) and prepares a registrator
// configuration for the test's containers; adjust e.cfg, then call e.start.
func newEnv(t *testing.T, opts ...testenv.ConsulOption) *env {
	t.Helper()
	e := &env{t: t, image: testenv.BuildWhoami(t), runID: randomID()}
	e.consul = testenv.StartConsul(t, opts...)
	e.api = e.consul.Client()
	// Also those a failed `docker run` created.
	t.Cleanup(func() {
		out, _ := e.docker("ps", "-aq", "--filter", "label="+runLabel+"="+e.runID)
		if ids := strings.Fields(out); len(ids) > 0 {
			_, _ = e.docker(append([]string{"rm", "-f"}, ids...)...)
		}
	})
	e.cfg = &config.Registrator{
		Name:          "test",
		Cleanup:       true,
		Deregister:    "always",
		AddressFamily: "ipv4",
		Filter:        map[string]string{runLabel: e.runID},
	}
	return e
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// start runs a registrator job until the test ends or e.stopJob is called,
// and waits for its first reconcile.
func (e *env) start() *register.Job {
	e.t.Helper()
	job := e.launch()
	testenv.WaitFor(e.t, waitLimit, "the job's first reconcile", func() bool { return job.Status().Ready })
	return job
}

// launch runs a registrator job until the test ends or e.stopJob is called.
func (e *env) launch() *register.Job {
	e.t.Helper()
	e.cfg.DockerHost = e.host
	e.metrics = jobs.NewMetrics(metrics.NewRegistry())
	job, err := register.New(e.cfg, e.api, register.Options{Logger: testLogger(), Metrics: e.metrics})
	if err != nil {
		e.t.Fatalf("register.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- job.Run(ctx) }()
	var once sync.Once
	e.stopJob = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("Run returned %v", err)
				}
			case <-time.After(20 * time.Second):
				e.t.Errorf("Run did not return after its context ended")
			}
		})
	}
	e.t.Cleanup(e.stopJob)
	e.job = job
	return job
}

// testLogger logs to stderr with DRCON_TEST_LOG=1.
func testLogger() *slog.Logger {
	if os.Getenv("DRCON_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// docker runs the docker CLI against the test's engine.
func (e *env) docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	if e.host != "" {
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+e.host)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (e *env) must(args ...string) string {
	e.t.Helper()
	out, err := e.docker(args...)
	if err != nil {
		e.t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// run starts a container of image with `docker run -d`, labelled for this
// test (and so removed when it ends). opts go before the image.
func (e *env) run(image string, opts ...string) string {
	e.t.Helper()
	args := append([]string{"run", "-d", "--label", testLabel + "=register", "--label", runLabel + "=" + e.runID}, opts...)
	return e.must(append(args, image)...)
}

// runMany starts n containers like run, ten at a time.
func (e *env) runMany(n int, image string, opts ...string) []string {
	e.t.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			args := append([]string{"run", "-d", "--label", testLabel + "=register", "--label", runLabel + "=" + e.runID}, opts...)
			ids[i], errs[i] = e.docker(append(args, image)...)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("docker run: %v\n%s", err, ids[i])
		}
	}
	return ids
}

func (e *env) inspect(id string) *docker.Container {
	e.t.Helper()
	var c []*docker.Container
	out := e.must("inspect", id)
	if err := json.Unmarshal([]byte(out), &c); err != nil || len(c) != 1 {
		e.t.Fatalf("docker inspect %s: %v", id, err)
	}
	return c[0]
}

// hostPort is the port docker published container port p (as "80/tcp") on.
func (e *env) hostPort(id, p string) int {
	e.t.Helper()
	bs := e.inspect(id).NetworkSettings.Ports[docker.Port(p)]
	if len(bs) == 0 {
		e.t.Fatalf("port %s of %s is not published", p, id)
	}
	n, _ := strconv.Atoi(bs[0].HostPort)
	return n
}

// services is the agent's services that drcon registered.
func (e *env) services() map[string]*api.AgentService {
	s, err := e.api.Agent().ServicesWithFilter(`Meta["drcon-owner"] != ""`)
	if err != nil {
		return nil
	}
	return s
}

// waitServices waits until cond holds for the agent's drcon services.
func (e *env) waitServices(what string, cond func(map[string]*api.AgentService) bool) map[string]*api.AgentService {
	e.t.Helper()
	var got map[string]*api.AgentService
	testenv.WaitFor(e.t, waitLimit, what, func() bool {
		got = e.services()
		return got != nil && cond(got)
	})
	return got
}

// ofContainer is the services of one container.
func ofContainer(s map[string]*api.AgentService, id string) []*api.AgentService {
	var out []*api.AgentService
	for _, v := range s {
		if v.Meta["drcon-container"] == id {
			out = append(out, v)
		}
	}
	return out
}

func count(n int) func(map[string]*api.AgentService) bool {
	return func(s map[string]*api.AgentService) bool { return len(s) == n }
}

// checkStatus is the status of a check on the agent, "" if it has none.
func (e *env) checkStatus(id string) string {
	c, err := e.api.Agent().Checks()
	if err != nil || c[id] == nil {
		return ""
	}
	return c[id].Status
}

func (e *env) waitCheck(id, status string) {
	e.t.Helper()
	testenv.WaitFor(e.t, waitLimit, "check "+id+" "+status, func() bool { return e.checkStatus(id) == status })
}

func inMaintenance(e *env, serviceID string) bool {
	return e.checkStatus("_service_maintenance:"+serviceID) == api.HealthCritical
}

// post sends a POST to a test service published on loopback.
func post(t *testing.T, port int, path string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Post("http://127.0.0.1:"+strconv.Itoa(port)+path, "text/plain", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
}

// eventsSeen is how many Docker events of one action the job received.
func (e *env) eventsSeen(action string) float64 {
	return e.metrics.DockerEvents.WithLabelValues(e.cfg.Name, action).Value()
}

var crasherOnce struct {
	sync.Mutex
	built bool
}

// crasherImage builds testdata/crasher: a service that exits with the code
// it is told to and ignores SIGHUP.
func crasherImage(t *testing.T) string {
	t.Helper()
	const tag = "drcon-crasher:test"
	crasherOnce.Lock()
	defer crasherOnce.Unlock()
	if !crasherOnce.built {
		err := testenv.BuildImage(testenv.RepoRoot(t), tag, "./integration/register/testdata/crasher", `FROM scratch
COPY app /crasher
EXPOSE 80
ENTRYPOINT ["/crasher"]
`)
		if err != nil {
			t.Fatalf("build %s: %v", tag, err)
		}
		crasherOnce.built = true
	}
	return tag
}
