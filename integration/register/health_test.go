package register

import (
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// TestDockerHealth: with health = "docker" the container's HEALTHCHECK
// drives a TTL check: starting is critical, healthy passing, unhealthy
// critical (registrator #578). whoami's HEALTHCHECK probes every second.
func TestDockerHealth(t *testing.T) {
	e := newEnv(t)
	e.cfg.Health = "docker"
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	check := "drcon-health:" + svc.ID
	if s := e.checkStatus(check); s != api.HealthCritical && e.inspect(id).State.Health.Status == "starting" {
		t.Fatalf("health check %q while Docker says starting", s)
	}
	e.waitCheck(check, api.HealthPassing)

	port := e.hostPort(id, "80/tcp")
	post(t, port, "/health?status=fail")
	e.waitCheck(check, api.HealthCritical)
	post(t, port, "/health?status=ok")
	e.waitCheck(check, api.HealthPassing)
}

// TestCheckTTLRefreshed: drcon keeps a SERVICE_CHECK_TTL check passing
// while the container runs (registrator #580): it is still passing after
// several of its TTLs, which without refreshes would have made it critical.
func TestCheckTTLRefreshed(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_TTL=2s")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	check := "service:" + svc.ID
	e.waitCheck(check, api.HealthPassing)
	time.Sleep(6 * time.Second)
	if s := e.checkStatus(check); s != api.HealthPassing {
		t.Fatalf("TTL check %q after 3 TTLs", s)
	}
}

// TestCheckTTLOfTheApplication: a SERVICE_CHECK_TTL check that the
// application heartbeats itself (as it had to under registrator) is left to
// it: drcon's refresh does not turn the application's failure back to
// passing. The application reports twice, a refresh period apart, as a
// heartbeat does: Consul's agent has no compare-and-set, so a report that
// lands between drcon's read of the check and its refresh is overwritten
// (seen once in CI), and the next report is the one drcon then sees. With
// SERVICE_CHECK_INITIAL_STATUS the check is the application's from the
// start, registered with that status.
func TestCheckTTLOfTheApplication(t *testing.T) {
	e := newEnv(t)
	e.start()
	heartbeat := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_TTL=3s")
	initial := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_TTL=30s", "--label", "SERVICE_CHECK_INITIAL_STATUS=critical")
	got := e.waitServices("registered", count(2))
	hb, in := "service:"+ofContainer(got, heartbeat)[0].ID, "service:"+ofContainer(got, initial)[0].ID
	e.waitCheck(hb, api.HealthPassing)
	for beat := range 2 {
		if beat > 0 {
			time.Sleep(1200 * time.Millisecond) // more than a refresh period (TTL/3)
		}
		if err := e.api.Agent().UpdateTTL(hb, "app: database unreachable", api.HealthCritical); err != nil {
			t.Fatal(err)
		}
	}
	// Two of drcon's refresh periods, within the TTL.
	time.Sleep(2500 * time.Millisecond)
	checks, err := e.api.Agent().Checks()
	if err != nil {
		t.Fatal(err)
	}
	if c := checks[hb]; c == nil || c.Status != api.HealthCritical || c.Output != "app: database unreachable" {
		t.Errorf("the application's report was overwritten: %+v", c)
	}
	if c := checks[in]; c == nil || c.Status != api.HealthCritical || c.Output != "" {
		t.Errorf("a TTL check with an initial status: %+v, want critical and untouched", c)
	}
}

// TestChecks: the checks SERVICE_CHECK_* asks for run in Consul and pass: an
// HTTP check on the published port, and a script check split into argv the
// way a shell would (registrator passed it as one argument, #687); and a
// gRPC check with TLS.
func TestChecks(t *testing.T) {
	e := newEnv(t)
	e.start()
	web := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_HTTP=/health", "--label", "SERVICE_CHECK_INTERVAL=1s")
	script := e.run(e.image, "-p", "127.0.0.1::80", "--label", `SERVICE_CHECK_SCRIPT=sh -c 'test "$1" = 127.0.0.1' check $SERVICE_IP`,
		"--label", "SERVICE_CHECK_INTERVAL=1s")
	grpc := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_GRPC=true", "--label", "SERVICE_CHECK_GRPC_USE_TLS=yes")
	got := e.waitServices("registered", count(3))
	e.waitCheck("service:"+ofContainer(got, web)[0].ID, api.HealthPassing)
	e.waitCheck("service:"+ofContainer(got, script)[0].ID, api.HealthPassing)
	// Any value turns a switch on, as in registrator: the check speaks TLS
	// to whoami's plain HTTP server, and Consul's output says so (the
	// agent's API does not show a gRPC check's definition).
	id := "service:" + ofContainer(got, grpc)[0].ID
	var c *api.AgentCheck
	testenv.WaitFor(t, waitLimit, "the gRPC check's first run", func() bool {
		checks, err := e.api.Agent().Checks()
		c = checks[id]
		return err == nil && c != nil && c.Output != ""
	})
	if c.Type != "grpc" || !strings.Contains(strings.ToLower(c.Output), "tls") {
		t.Errorf("gRPC check %s: type %q, output %q; want a gRPC check over TLS", id, c.Type, c.Output)
	}
}

// TestDeregisterAfterStands: a service that Consul removes because its
// check stayed critical past SERVICE_CHECK_DEREGISTER_AFTER stays removed,
// as under registrator, until its container starts again; drcon registered
// it again at once, so that it never went. Consul's floor for the setting
// is a minute and it reaps every 30 s, so this test runs beside the others.
func TestDeregisterAfterStands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_SCRIPT=sh -c 'exit 2'",
		"--label", "SERVICE_CHECK_INTERVAL=1s", "--label", "SERVICE_CHECK_DEREGISTER_AFTER=1m")
	e.waitServices("registered", count(1))
	testenv.WaitFor(t, 3*time.Minute, "Consul to remove the critical service", func() bool { return len(e.services()) == 0 })
	// The agent watch sees the loss at once and reconciles; the service
	// must stay gone through that.
	time.Sleep(3 * time.Second)
	if s := e.services(); len(s) != 0 {
		t.Fatalf("registered again after Consul removed it: %v", s)
	}
	e.must("restart", "-t", "0", id)
	e.waitServices("registered again after a restart", count(1))
}

// TestRefusedRegistrationLeavesTheRestReady: a container whose registration
// the agent refuses (a script check, which Consul disables by default) is
// missing, as under registrator, and reported; the block's other containers
// register and the block becomes ready (a refused container kept it from
// ever being ready, /healthz 503).
func TestRefusedRegistrationLeavesTheRestReady(t *testing.T) {
	e := newEnv(t, testenv.WithoutScriptChecks())
	refused := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_SCRIPT=true")
	ok := e.run(e.image, "-p", "127.0.0.1::80")
	job := e.start()
	got := e.waitServices("the other container registered", count(1))
	if len(ofContainer(got, ok)) != 1 || len(ofContainer(got, refused)) != 0 {
		t.Errorf("registered %v", got)
	}
	testenv.WaitFor(t, waitLimit, "the refusal reported", func() bool {
		return strings.Contains(job.Status().LastError, "Scripts are disabled")
	})
}

// TestDeregisterAfterHealthyAgain: with health = "docker", a service that
// Consul removed while its container was unhealthy past
// SERVICE_CHECK_DEREGISTER_AFTER is registered again when Docker reports the
// container healthy, as a restart would. Runs beside the others, for
// Consul's minute.
func TestDeregisterAfterHealthyAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.cfg.Health = "docker"
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_CHECK_DEREGISTER_AFTER=1m")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	e.waitCheck("drcon-health:"+svc.ID, api.HealthPassing)
	port := e.hostPort(id, "80/tcp")
	post(t, port, "/health?status=fail")
	testenv.WaitFor(t, 3*time.Minute, "Consul to remove the unhealthy service", func() bool { return len(e.services()) == 0 })
	post(t, port, "/health?status=ok")
	e.waitServices("registered again once healthy", count(1))
	e.waitCheck("drcon-health:"+svc.ID, api.HealthPassing)
}
