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

// oneContainer is a dockerAPI of one container, whose inspect result the
// test swaps; the methods a converge does not call are left to the nil
// interface.
type oneContainer struct {
	dockerAPI
	mu sync.Mutex
	c  *docker.Container
}

func (d *oneContainer) set(c *docker.Container) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.c = c
}

func (d *oneContainer) inspect(context.Context, string) (*docker.Container, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c, nil
}

// memoryAgent is an agentAPI that keeps registrations in memory. The
// methods a converge does not call are left to the nil interface: calling
// one fails the test.
type memoryAgent struct {
	agentAPI
	mu       sync.Mutex
	services map[string]*api.AgentServiceRegistration
}

func (a *memoryAgent) owned(_ context.Context, owner, container string) (map[string]*api.AgentService, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]*api.AgentService{}
	for id, r := range a.services {
		if r.Meta[metaOwner] == owner && (container == "" || r.Meta[metaContainer] == container) {
			out[id] = &api.AgentService{ID: id, Service: r.Name, Tags: r.Tags, Port: r.Port, Address: r.Address, Meta: r.Meta}
		}
	}
	return out, nil
}

func (a *memoryAgent) register(_ context.Context, r *api.AgentServiceRegistration) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.services[r.ID] = r
	return nil
}

func (a *memoryAgent) deregister(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.services, id)
	return nil
}

func (a *memoryAgent) has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.services[id] != nil
}

func (a *memoryAgent) checks(context.Context) (map[string]*api.AgentCheck, error) {
	return map[string]*api.AgentCheck{}, nil
}

func (a *memoryAgent) checksByID(context.Context, []string) (map[string]*api.AgentCheck, error) {
	return map[string]*api.AgentCheck{}, nil
}

func (a *memoryAgent) maintenance(context.Context, string, bool, string) error { return nil }
func (a *memoryAgent) updateTTL(context.Context, string, string, string) error { return nil }

// TestListingOlderThanDroppedEntry: a reconcile lists the agent while a
// container's service is there; the container dies, drcon deregisters the
// service and forgets the container; it starts again (a restart policy)
// before the reconcile's pass for it runs. That pass must register the
// service again, not take the listing, which predates the deregistration,
// for what the agent has: the service would stay missing until the next
// reconcile.
func TestListingOlderThanDroppedEntry(t *testing.T) {
	ctx := context.Background()
	c := bridgeContainer(nil, []string{"80/tcp"}, "80/tcp")
	c.State.StartedAt = time.Unix(100, 0)
	dk, ag := &oneContainer{c: c}, &memoryAgent{services: map[string]*api.AgentServiceRegistration{}}
	j := &Job{
		name: "test", docker: dk, agent: ag, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		q: newQueue(), entries: map[string]*entry{}, holders: map[string]*holder{},
		id: testIdentity, st: status{baseline: true},
	}
	j.set.cleanup = true
	const sid = "host1:web:80"

	if err := j.handle(ctx, c.ID, &work{converge: true, event: true}); err != nil || !ag.has(sid) {
		t.Fatalf("started: err %v, registered %v", err, ag.has(sid))
	}

	// A reconcile lists the agent, as reconcile does.
	j.mu.Lock()
	j.gone = map[string]uint64{}
	j.mu.Unlock()
	listedAt := j.seq.Add(1)
	services, _ := ag.owned(ctx, testIdentity.Owner, "")
	listing := &snapshot{seq: listedAt, services: byContainer(services, nil)[c.ID]}

	dead := *c
	dead.State.Running, dead.State.ExitCode = false, 1
	dk.set(&dead)
	if err := j.handle(ctx, c.ID, &work{converge: true, event: true}); err != nil || ag.has(sid) {
		t.Fatalf("died: err %v, still registered %v", err, ag.has(sid))
	}

	again := *c
	again.State.StartedAt = time.Unix(200, 0)
	dk.set(&again)
	if err := j.handle(ctx, c.ID, &work{converge: true, event: true, snap: listing}); err != nil {
		t.Fatal(err)
	}
	if !ag.has(sid) {
		t.Fatalf("restarted container not registered again: the pass took the older listing for the agent's state")
	}
}
