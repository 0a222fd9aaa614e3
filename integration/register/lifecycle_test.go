package register

import (
	"strings"
	"testing"
	"time"

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

// TestStopSignal: `docker stop` of a container whose stop signal is not
// TERM (nginx's STOPSIGNAL is SIGQUIT) puts its service in maintenance while
// it drains, as TERM does; the crasher drains on QUIT until it is killed.
func TestStopSignal(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(crasherImage(t), "-p", "127.0.0.1::80", "--stop-signal", "SIGQUIT")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]

	stopped := make(chan error, 1)
	go func() { _, err := e.docker("stop", "-t", "50", id); stopped <- err }()
	testenv.WaitFor(t, waitLimit, "maintenance while draining", func() bool { return inMaintenance(e, svc.ID) })
	if !e.inspect(id).State.Running {
		t.Fatalf("the container stopped before its service was put in maintenance")
	}
	e.must("kill", id)
	if err := <-stopped; err != nil {
		t.Fatalf("docker stop: %v", err)
	}
	e.waitServices("deregistered", count(0))
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

// TestRename: `docker rename` moves the container's service to the ID of
// its new name at once; registrator ignored the event and kept the old ID
// until the container restarted.
func TestRename(t *testing.T) {
	e := newEnv(t)
	e.start()
	old, renamed := "old-"+e.runID, "new-"+e.runID
	id := e.run(e.image, "--name", old, "-p", "127.0.0.1::80")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	if !strings.HasSuffix(svc.ID, ":"+old+":80") {
		t.Fatalf("service ID %q, want HOST:%s:80", svc.ID, old)
	}
	e.must("rename", old, renamed)
	got := e.waitServices("registered under the new name alone", func(s map[string]*api.AgentService) bool {
		c := ofContainer(s, id)
		return len(s) == 1 && len(c) == 1 && strings.HasSuffix(c[0].ID, ":"+renamed+":80")
	})
	if svc := ofContainer(got, id)[0]; svc.Port != e.hostPort(id, "80/tcp") {
		t.Errorf("renamed service at port %d", svc.Port)
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

// TestSharedServiceID: two containers with one SERVICE_ID (a scaled
// Compose service that sets it) do not overwrite each other's service, and
// the one that stops leaves the other's alone (it put the other's service in
// maintenance and deregistered it). The service is the first container's
// while it runs, then the second's. Another container's service, first by
// ID, keeps the watch of the agent off the shared one, whose loss the watch
// would have repaired.
func TestSharedServiceID(t *testing.T) {
	e := newEnv(t)
	job := e.start()
	shared := "shared-" + e.runID
	e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_ID=0-first")
	first := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_ID="+shared, "-e", "DRAIN=0s")
	e.waitServices("the first registered", func(s map[string]*api.AgentService) bool { return len(ofContainer(s, first)) == 1 })
	second := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_ID="+shared)
	testenv.WaitFor(t, waitLimit, "the job to converge the second", func() bool { return job.Status().Containers == 3 })
	if s := e.services()[shared]; s == nil || s.Meta["drcon-container"] != first {
		t.Fatalf("while both run, %s is %+v, want the first container's", shared, s)
	}

	e.must("stop", first)
	got := e.waitServices("the second's service", func(s map[string]*api.AgentService) bool {
		return s[shared] != nil && s[shared].Meta["drcon-container"] == second
	})
	if inMaintenance(e, shared) {
		t.Errorf("the second's service is in maintenance")
	}
	if p := e.hostPort(second, "80/tcp"); got[shared].Port != p {
		t.Errorf("registered at port %d, the second publishes %d", got[shared].Port, p)
	}
}

// TestDrainSurvivesJobRestart: a drcon that restarts while a container
// drains after `docker stop` keeps its service in maintenance: the running
// container it finds is on its way out (the restarted job put it back in
// rotation).
func TestDrainSurvivesJobRestart(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "-e", "DRAIN=60s")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	stopped := make(chan error, 1)
	go func() { _, err := e.docker("stop", "-t", "60", id); stopped <- err }()
	testenv.WaitFor(t, waitLimit, "maintenance while draining", func() bool { return inMaintenance(e, svc.ID) })

	e.stopJob()
	// Out of the second of events a new job's subscription replays.
	time.Sleep(2 * time.Second)
	e.start() // its first reconcile has converged the container
	if !e.inspect(id).State.Running {
		t.Fatalf("the container stopped before the new job's first reconcile")
	}
	if !inMaintenance(e, svc.ID) {
		t.Fatalf("the restarted job took the draining container's service out of maintenance")
	}
	e.must("kill", id)
	if err := <-stopped; err != nil {
		t.Fatalf("docker stop: %v", err)
	}
	e.waitServices("deregistered", count(0))
}
