package consul_test

import (
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// seed gives a dev agent a catalog with every case the fetchers must shape
// like consul-template: instances on three nodes, unsorted and duplicate
// tags, an empty service address, passing/warning/critical/maintenance
// instances, a node-level warning, weights, meta and tagged addresses, a
// Connect-native service, KV folders, flags and a lock. Check outputs are
// fixed (TTL checks, and catalog checks that no agent runs) so that two
// readers see the same state.
func seed(t *testing.T, c *testenv.Consul) {
	t.Helper()
	cl := c.Client()
	c.Peer("cluster-2", map[string]string{"env": "test"})
	c.Peer("cluster-12", nil)
	ttl := func(id, status string) *api.AgentServiceCheck {
		return &api.AgentServiceCheck{CheckID: id, Name: id, TTL: "1h", Status: status, Notes: "ttl " + id}
	}
	c.Register(&api.AgentServiceRegistration{
		ID: "web-1", Name: "web", Tags: []string{"b", "a", "a"}, Port: 8080,
		Meta:            map[string]string{"version": "1"},
		Weights:         &api.AgentWeights{Passing: 3, Warning: 1},
		TaggedAddresses: map[string]api.ServiceAddress{"lan": {Address: "127.0.0.1", Port: 8080}},
		Checks:          api.AgentServiceChecks{ttl("web-1-ttl", api.HealthPassing)},
	})
	c.Register(&api.AgentServiceRegistration{
		ID: "web-2", Name: "web", Tags: []string{"b"}, Address: "127.0.0.2", Port: 8081,
		Checks: api.AgentServiceChecks{ttl("web-2-ttl", api.HealthWarning)},
	})
	c.Register(&api.AgentServiceRegistration{
		ID: "web-3", Name: "web", Port: 8082,
		Checks: api.AgentServiceChecks{ttl("web-3-ttl", api.HealthPassing), ttl("web-3-down", api.HealthCritical)},
	})
	c.Register(&api.AgentServiceRegistration{
		ID: "web-4", Name: "web", Tags: []string{"canary"}, Port: 8083,
		Checks: api.AgentServiceChecks{ttl("web-4-ttl", api.HealthPassing)},
	})
	c.Register(&api.AgentServiceRegistration{
		ID: "api-1", Name: "api", Port: 9090, Connect: &api.AgentServiceConnect{Native: true},
		Checks: api.AgentServiceChecks{ttl("api-1-ttl", api.HealthPassing)},
	})
	if err := cl.Agent().EnableServiceMaintenance("web-4", "draining"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*api.CatalogRegistration{{
		Node: "alpha", Address: "127.0.0.10",
		TaggedAddresses: map[string]string{"wan": "127.0.0.11"}, NodeMeta: map[string]string{"rack": "r1"},
		Service: &api.AgentService{ID: "web-a", Service: "web", Tags: []string{"z", "a"}, Port: 9000,
			Meta: map[string]string{"zone": "a"}},
		// A catalog check is never run by an agent: its definition and
		// output stay as registered.
		Checks: api.HealthChecks{{Node: "alpha", CheckID: "web-a-check", Name: "svc", Status: api.HealthPassing,
			ServiceID: "web-a", Output: "fine", Type: "http", Definition: api.HealthCheckDefinition{
				HTTP: "http://127.0.0.10:9000/health", Header: map[string][]string{"X-Probe": {"drcon"}},
				Method: "HEAD", IntervalDuration: 10 * time.Second, TimeoutDuration: 2 * time.Second,
			}}},
	}, {
		Node: "zulu", Address: "127.0.0.20",
		Service: &api.AgentService{ID: "web-z", Service: "web", Port: 9001},
		Checks: api.HealthChecks{
			{Node: "zulu", CheckID: "zulu-node", Name: "node", Status: api.HealthWarning, Output: "load"},
			{Node: "zulu", CheckID: "web-z-check", Name: "svc", Status: api.HealthPassing, ServiceID: "web-z"},
		},
	}} {
		if _, err := cl.Catalog().Register(r, nil); err != nil {
			t.Fatalf("register node %s: %v", r.Node, err)
		}
	}

	c.PutKV("k/a", "1")
	if _, err := cl.KV().Put(&api.KVPair{Key: "k/flagged", Value: []byte("f"), Flags: 42}, nil); err != nil {
		t.Fatal(err)
	}
	c.PutKV("k/b/", "")
	c.PutKV("k/b/c", "2")
	c.PutKV("k/empty", "")
	c.PutKV("kx", "not under k/")
	session, _, err := cl.Session().Create(&api.SessionEntry{Name: "lock", TTL: "1h"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := cl.KV().Acquire(&api.KVPair{Key: "k/locked", Value: []byte("held"), Session: session}, nil); err != nil || !ok {
		t.Fatalf("acquire k/locked: %v %v", ok, err)
	}

	// Let anti-entropy sync the agent's services and checks to the catalog.
	testenv.WaitFor(t, 30*time.Second, "the catalog to list web-4 in maintenance", func() bool {
		entries, _, err := cl.Health().Service("web", "", false, nil)
		if err != nil {
			return false
		}
		n := 0
		for _, e := range entries {
			if e.Checks.AggregatedStatus() == api.HealthMaint {
				n++
			}
		}
		return n == 1 && len(entries) == 6
	})
}
