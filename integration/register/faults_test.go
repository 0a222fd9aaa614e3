package register

import (
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// TestConsulRestart: a dev agent forgets every service when it restarts;
// drcon notices and registers them again. How fast is measured by
// BenchmarkRegisterConsulRestart; here the wait is only bounded.
func TestConsulRestart(t *testing.T) {
	e := newEnv(t)
	e.start()
	e.runMany(20, e.image, "-p", "127.0.0.1::80")
	before := e.waitServices("20 registered", count(20))
	e.consul.Restart()
	answered := time.Now()
	after := e.waitServices("20 registered again", count(20))
	t.Logf("services back %s after the agent answered again", time.Since(answered))
	for id := range before {
		if after[id] == nil {
			t.Errorf("service %s not registered again", id)
		}
	}
}

// TestJobRestart: a new job after the old one stopped (without
// deregister_on_exit) registers nothing twice, deregisters the containers
// that went meanwhile and registers those that came.
func TestJobRestart(t *testing.T) {
	e := newEnv(t)
	e.start()
	stays := e.run(e.image, "-p", "127.0.0.1::80")
	goes := e.run(e.image, "-p", "127.0.0.1::80")
	before := e.waitServices("two registered", count(2))
	e.stopJob()

	e.must("rm", "-f", goes)
	comes := e.run(e.image, "-p", "127.0.0.1::80")
	if len(e.services()) != 2 {
		t.Fatalf("services changed while no job ran")
	}
	e.start()
	got := e.waitServices("the gone one deregistered and the new one registered", func(s map[string]*api.AgentService) bool {
		return len(s) == 2 && len(ofContainer(s, comes)) == 1 && len(ofContainer(s, goes)) == 0
	})
	kept := ofContainer(got, stays)
	if len(kept) != 1 || before[kept[0].ID] == nil {
		t.Fatalf("the container that stayed has services %v", kept)
	}
}

// TestManyContainers: 50 containers started at once are all registered,
// and none is left once they are stopped.
func TestManyContainers(t *testing.T) {
	e := newEnv(t)
	e.start()
	const n = 50
	ids := e.runMany(n, e.image, "-p", "127.0.0.1::80", "-e", "DRAIN=0s")
	got := e.waitServices("50 registered", count(n))
	for _, id := range ids {
		if len(ofContainer(got, id)) != 1 {
			t.Fatalf("container %s has %d services", id, len(ofContainer(got, id)))
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 10)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			e.must("stop", "-t", "5", id)
		}()
	}
	wg.Wait()
	e.waitServices("none left", count(0))
}

// TestDockerRestart: the engine restarts (live-restore keeps containers
// running) while containers change; drcon reconnects and reconciles. It
// runs an engine of its own, so that the shared one is left alone.
func TestDockerRestart(t *testing.T) {
	d := startDaemon(t)
	e := newEnv(t)
	e.host = d.host
	d.load(t, e.image)
	e.start()
	stays := e.run(e.image, "-p", ownPort(t))
	dies := e.run(e.image, "-p", ownPort(t))
	e.waitServices("two registered", count(2))

	pid := e.inspect(dies).State.Pid
	d.stop(t)
	killProcess(t, pid) // the container dies while its engine is down
	d.restart(t)
	comes := e.run(e.image, "-p", ownPort(t))
	got := e.waitServices("reconciled after the engine came back", func(s map[string]*api.AgentService) bool {
		return len(s) == 2 && len(ofContainer(s, stays)) == 1 && len(ofContainer(s, comes)) == 1
	})
	if len(ofContainer(got, dies)) != 0 {
		t.Fatalf("the container that died while the engine was down is still registered")
	}
	if st := e.job.Status(); st.State != "running" {
		t.Errorf("job state %q after the engine came back", st.State)
	}
	testenv.WaitFor(t, waitLimit, "a reconcile after the reconnect", func() bool { return e.job.Status().LastSync.After(d.restarted) })
}

// TestDockerLate: a job whose engine is not there yet keeps trying, says
// so in its status, and registers once the engine answers.
func TestDockerLate(t *testing.T) {
	d := newDaemon(t)
	e := newEnv(t)
	e.host = d.host
	job := e.launch()
	testenv.WaitFor(t, waitLimit, "the job to report the engine missing", func() bool {
		st := job.Status()
		return st.State == "docker unavailable" && st.LastError != ""
	})
	if job.Status().Ready {
		t.Fatalf("ready without an engine")
	}
	d.restart(t)
	d.load(t, e.image)
	testenv.WaitFor(t, waitLimit, "ready once the engine answers", func() bool { return job.Status().Ready })
	id := e.run(e.image, "-p", ownPort(t))
	e.waitServices("registered", func(s map[string]*api.AgentService) bool { return len(ofContainer(s, id)) == 1 })
}

// TestConsulLate: a job whose agent is not there yet keeps trying, says
// so in its status, and registers what runs once the agent answers.
func TestConsulLate(t *testing.T) {
	e := newEnv(t)
	e.consul.Stop()
	id := e.run(e.image, "-p", "127.0.0.1::80")
	job := e.launch()
	testenv.WaitFor(t, waitLimit, "the job to report the agent missing", func() bool {
		st := job.Status()
		return st.State == "consul unavailable" && st.LastError != ""
	})
	e.consul.Start()
	e.waitServices("registered once the agent answers", func(s map[string]*api.AgentService) bool { return len(ofContainer(s, id)) == 1 })
	testenv.WaitFor(t, waitLimit, "ready", func() bool { return job.Status().Ready })
}

// TestNoCleanup: with cleanup off, as registrator without -cleanup, a
// container that went while no job ran stays registered; one that goes
// while the job runs is deregistered.
func TestNoCleanup(t *testing.T) {
	e := newEnv(t)
	e.cfg.Cleanup = false
	e.start()
	unseen := e.run(e.image, "-p", "127.0.0.1::80")
	seen := e.run(e.image, "-p", "127.0.0.1::80")
	e.waitServices("two registered", count(2))
	e.stopJob()
	e.must("rm", "-f", unseen)
	e.start()
	e.must("rm", "-f", seen)
	got := e.waitServices("the one seen going deregistered", func(s map[string]*api.AgentService) bool { return len(ofContainer(s, seen)) == 0 })
	if len(ofContainer(got, unseen)) != 1 {
		t.Fatalf("cleanup is off, yet the container that went unseen was deregistered")
	}
}

// TestConsulRestartKeepsNodeID: an agent that restarts without its
// services but with its node ID (a fixed node_id, here a dev agent given
// one) gets them back, those with SERVICE_CHECK_DEREGISTER_AFTER too: drcon
// took their loss for Consul reaping them and left them off.
func TestConsulRestartKeepsNodeID(t *testing.T) {
	e := newEnv(t)
	agent := startFixedNodeAgent(t)
	e.api = agent.client
	e.start()
	e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_TTL=30s", "--label", "SERVICE_CHECK_DEREGISTER_AFTER=1m")
	before := e.waitServices("registered", count(1))
	agent.restart()
	after := e.waitServices("registered again", count(1))
	for id := range before {
		if after[id] == nil {
			t.Errorf("service %s not registered again", id)
		}
	}
}

// fixedNodeAgent is a dev agent started with a fixed -node-id: it forgets
// its services when it restarts, but not who it is.
type fixedNodeAgent struct {
	t      *testing.T
	args   []string
	proc   *testenv.Process
	client *api.Client
}

func startFixedNodeAgent(t *testing.T) *fixedNodeAgent {
	t.Helper()
	bin, err := testenv.ConsulBinary()
	if err != nil {
		testenv.Missing(t, "consul", "run integration/scripts/build-consul.sh", err)
	}
	p := make([]string, 6)
	for i := range p {
		p[i] = strconv.Itoa(testenv.FreePort(t))
	}
	a := &fixedNodeAgent{t: t, args: []string{bin, "agent", "-dev", "-node", "drcon-test",
		"-node-id", "5f0c2a8e-0d6b-4c47-9a52-" + randomID(),
		"-client", "127.0.0.1", "-bind", "127.0.0.1", "-http-port", p[0], "-dns-port", p[1], "-server-port", p[2],
		"-serf-lan-port", p[3], "-serf-wan-port", p[4], "-grpc-port", "-1", "-hcl", "ports { grpc_tls = " + p[5] + " }"}}
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = "127.0.0.1:" + p[0]
	if a.client, err = api.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	a.start()
	t.Cleanup(func() { a.proc.Stop() })
	return a
}

func (a *fixedNodeAgent) start() {
	a.t.Helper()
	a.proc = testenv.Start(a.t, "consul", exec.Command(a.args[0], a.args[1:]...))
	testenv.WaitFor(a.t, waitLimit, "the agent elected itself", func() bool {
		leader, err := a.client.Status().Leader()
		return err == nil && leader != ""
	})
}

func (a *fixedNodeAgent) restart() {
	a.t.Helper()
	a.proc.Stop()
	a.start()
}
