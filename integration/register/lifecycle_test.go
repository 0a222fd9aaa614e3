package register

import (
	"strings"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// TestStartStop: a published port is registered at its binding, and
// `docker stop` puts the service in maintenance while the container drains,
// before `die` deregisters it (registrator #127, #685).
func TestStartStop(t *testing.T) {
	e := newEnv(t)
	e.start()
	name := "web-" + e.runID
	id := e.run(e.image, "--name", name, "-p", "127.0.0.1::80", "-e", "DRAIN=10s")
	port := e.hostPort(id, "80/tcp")
	got := e.waitServices("the service registered", count(1))
	svc := ofContainer(got, id)[0]
	if svc.Service != "drcon-whoami" || svc.Address != "127.0.0.1" || svc.Port != port {
		t.Fatalf("registered %s at %s:%d, want drcon-whoami at 127.0.0.1:%d", svc.Service, svc.Address, svc.Port, port)
	}
	if want := ":" + name + ":80"; !strings.HasSuffix(svc.ID, want) || strings.HasPrefix(svc.ID, ":") {
		t.Fatalf("service ID %q, want HOST%s", svc.ID, want)
	}

	stopped := make(chan error, 1)
	go func() { _, err := e.docker("stop", "-t", "30", id); stopped <- err }()
	testenv.WaitFor(t, waitLimit, "maintenance while draining", func() bool { return inMaintenance(e, svc.ID) })
	if !e.inspect(id).State.Running {
		t.Fatalf("the container stopped before its service was put in maintenance")
	}
	e.waitServices("the service deregistered", count(0))
	if err := <-stopped; err != nil {
		t.Fatalf("docker stop: %v", err)
	}
}

// TestKill: HUP is no stop (registrator #248); KILL deregisters.
func TestKill(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(crasherImage(t), "-p", "127.0.0.1::80")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]

	e.must("kill", "-s", "HUP", id)
	testenv.WaitFor(t, waitLimit, "the kill event", func() bool { return e.eventsSeen("kill") >= 1 })
	if inMaintenance(e, svc.ID) || len(e.services()) != 1 {
		t.Fatalf("SIGHUP took the service out of rotation")
	}

	e.must("kill", id)
	e.waitServices("deregistered after SIGKILL", count(0))
}

// TestRestart: after `docker restart` the service is registered again, at
// the port the container got this time, and not in maintenance.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "-e", "DRAIN=0s")
	e.waitServices("registered", count(1))
	e.must("restart", "-t", "5", id)
	port := e.hostPort(id, "80/tcp")
	got := e.waitServices("registered again", func(s map[string]*api.AgentService) bool {
		c := ofContainer(s, id)
		return len(s) == 1 && len(c) == 1 && c[0].Port == port
	})
	if svc := ofContainer(got, id)[0]; inMaintenance(e, svc.ID) {
		t.Fatalf("restarted service still in maintenance")
	}
}

// TestRemove: `docker rm -f` and the end of a `--rm` container deregister.
func TestRemove(t *testing.T) {
	e := newEnv(t)
	e.start()
	forced := e.run(e.image, "-p", "127.0.0.1::80")
	auto := e.run(e.image, "--rm", "-p", "127.0.0.1::80", "-e", "DRAIN=0s")
	e.waitServices("both registered", count(2))

	e.must("rm", "-f", forced)
	got := e.waitServices("the removed one deregistered", count(1))
	if len(ofContainer(got, auto)) != 1 {
		t.Fatalf("the wrong service went")
	}
	e.must("stop", auto)
	e.waitServices("the --rm one deregistered", count(0))
}

// TestOnSuccess: with deregister = "on-success" a container that crashed
// stays registered, in maintenance, until it is removed; one that exited
// cleanly or by a signal goes.
func TestOnSuccess(t *testing.T) {
	e := newEnv(t)
	e.cfg.Deregister = "on-success"
	e.start()
	img := crasherImage(t)
	crash := e.run(img, "-p", "127.0.0.1::80")
	clean := e.run(img, "-p", "127.0.0.1::80")
	killed := e.run(img, "-p", "127.0.0.1::80")
	got := e.waitServices("three registered", count(3))
	crashed := ofContainer(got, crash)[0]

	post(t, e.hostPort(crash, "80/tcp"), "/exit?code=3")
	post(t, e.hostPort(clean, "80/tcp"), "/exit?code=0")
	e.must("kill", killed)
	e.waitServices("only the crashed one left", func(s map[string]*api.AgentService) bool {
		return len(s) == 1 && len(ofContainer(s, crash)) == 1
	})
	testenv.WaitFor(t, waitLimit, "the crashed service in maintenance", func() bool { return inMaintenance(e, crashed.ID) })

	e.must("rm", crash)
	e.waitServices("the crashed one deregistered once removed", count(0))
}

// TestDeregisterOnExit: the job removes its services when it stops.
func TestDeregisterOnExit(t *testing.T) {
	e := newEnv(t)
	e.cfg.DeregisterOnExit = true
	e.start()
	e.run(e.image, "-p", "127.0.0.1::80")
	e.waitServices("registered", count(1))
	e.stopJob()
	if s := e.services(); len(s) != 0 {
		t.Fatalf("services left after the job stopped: %v", s)
	}
}

// TestPause: a paused container's service is in maintenance until it is
// unpaused.
func TestPause(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	e.must("pause", id)
	testenv.WaitFor(t, waitLimit, "maintenance while paused", func() bool { return inMaintenance(e, svc.ID) })
	e.must("unpause", id)
	testenv.WaitFor(t, waitLimit, "out of maintenance", func() bool { return !inMaintenance(e, svc.ID) })
	if len(e.services()) != 1 {
		t.Fatalf("services %v", e.services())
	}
}
