package register

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"
	"github.com/hashicorp/consul/api"
)

// maintAgent is a memoryAgent that records which services are in
// maintenance.
type maintAgent struct {
	memoryAgent
	mu    sync.Mutex
	maint map[string]string // service ID -> reason
}

func (a *maintAgent) maintenance(_ context.Context, id string, on bool, reason string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if on {
		a.maint[id] = reason
	} else {
		delete(a.maint, id)
	}
	return nil
}

func (a *maintAgent) inMaintenance(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.maint[id]
	return ok
}

// dyingContainer answers an inspect as Docker does for a container that
// a SIGKILL ended: once the container is torn down, so gone. It records
// whether the service was in maintenance when the inspect was asked.
type dyingContainer struct {
	oneContainer
	ag             *maintAgent
	sid            string
	maintAtInspect bool
	dying          bool
}

func (d *dyingContainer) inspect(ctx context.Context, id string) (*docker.Container, error) {
	if d.dying {
		d.maintAtInspect = d.ag.inMaintenance(d.sid)
		return nil, nil
	}
	return d.oneContainer.inspect(ctx, id)
}

// TestStopSignalDrainsBeforeInspect: `docker kill` (or the SIGTERM of
// `docker stop`) puts the container's services in maintenance before the
// pass inspects the container. Docker answers that inspect only once it
// has torn the container down, 0.4-0.8 s after a SIGKILL on the test
// machine; until then nginx kept sending the dead instance requests, and
// an nginx that had marked the other instances failed answered 502.
func TestStopSignalDrainsBeforeInspect(t *testing.T) {
	ctx := context.Background()
	c := bridgeContainer(nil, []string{"80/tcp"}, "80/tcp")
	c.State.StartedAt = time.Unix(100, 0)
	ag := &maintAgent{memoryAgent: memoryAgent{services: map[string]*api.AgentServiceRegistration{}}, maint: map[string]string{}}
	dk := &dyingContainer{oneContainer: oneContainer{c: c}, ag: ag, sid: "host1:web:80"}
	j := &Job{
		name: "test", docker: dk, agent: ag, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		q: newQueue(), entries: map[string]*entry{}, holders: map[string]*holder{},
		id: testIdentity, st: status{baseline: true},
	}
	j.set.cleanup = true
	if err := j.handle(ctx, c.ID, &work{converge: true, event: true}); err != nil || !ag.has(dk.sid) {
		t.Fatalf("started: err %v, registered %v", err, ag.has(dk.sid))
	}

	dk.dying = true
	if err := j.handle(ctx, c.ID, &work{converge: true, event: true, stopping: time.Unix(200, 0)}); err != nil {
		t.Fatal(err)
	}
	if !dk.maintAtInspect {
		t.Errorf("the service was not in maintenance when the dying container was inspected")
	}
	if ag.has(dk.sid) {
		t.Errorf("the service of the dead container is still registered")
	}
}
