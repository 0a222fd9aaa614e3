package register

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// TestClaims: of two containers that would register one service ID, the
// first holds it and the other is refused with a warning and forgets the
// agent's copy, so that it never deregisters it; once the holder's
// service is gone the other is converged again and gets the ID. A
// container that no longer runs (kept by on-success) yields to one that
// runs.
func TestClaims(t *testing.T) {
	j := &Job{q: newQueue(), entries: map[string]*entry{}, holders: map[string]*holder{}}
	a, b, c := &entry{name: "a"}, &entry{name: "b"}, &entry{name: "c"}
	j.entries["A"], j.entries["B"], j.entries["C"] = a, b, c
	wants := func(running bool, ids ...string) decision {
		d := decision{running: running}
		for _, id := range ids {
			d.services = append(d.services, &service{Reg: &api.AgentServiceRegistration{ID: id}})
		}
		return d
	}
	claim := func(cid string, e *entry, d decision) decision {
		t.Helper()
		j.claim(cid, e, &d)
		e.actual, e.running = after(d, e.actual), d.running // as converge leaves them
		j.mu.Lock()
		j.release(cid, e)
		j.mu.Unlock()
		return d
	}

	if d := claim("A", a, wants(true, "dup", "a-own")); len(d.services) != 2 || len(d.warnings) != 0 {
		t.Fatalf("first claim: %d services, warnings %v", len(d.services), d.warnings)
	}
	b.actual = map[string]actualService{"dup": {}} // the agent's copy, as listed
	d := wants(true, "dup")
	j.claim("B", b, &d)
	if len(d.services) != 0 || len(d.warnings) != 1 || !strings.Contains(d.warnings[0].msg, `container a has service ID "dup"`) {
		t.Fatalf("second claim: %d services, warnings %v", len(d.services), d.warnings)
	}
	if _, ok := b.actual["dup"]; ok {
		t.Fatalf("the refused container still counts the holder's service as its own")
	}

	claim("A", a, wants(false)) // A's services went
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if id, w, ok := j.q.next(ctx); !ok || id != "B" || !w.converge {
		t.Fatalf("after the holder went, queued %q %+v %v; want B converged again", id, w, ok)
	}
	j.q.done("B")
	if d := claim("B", b, wants(true, "dup")); len(d.services) != 1 {
		t.Fatalf("B did not get the ID once it was free")
	}

	claim("B", b, decision{keep: true}) // B crashed, kept in maintenance
	if d := claim("C", c, wants(true, "dup")); len(d.services) != 1 {
		t.Fatalf("a running container did not take the ID from a crashed one")
	}
	if d := claim("B", b, decision{keep: true}); len(b.actual) != 0 || len(diff(d, b.actual).actions) != 0 {
		t.Fatalf("the crashed container still has %v, and would write to it", b.actual)
	}
}

// A waits for B's ID; B crashes and is kept (on-success): A should be
// converged again to take the ID.
func TestWaiterConvergedWhenHolderStopsRunning(t *testing.T) {
	j, a, b := twoContainers()
	claim := func(cid string, e *entry, d decision) decision {
		j.claim(cid, e, &d)
		e.actual, e.running = after(d, e.actual), d.running // as converge leaves them
		j.mu.Lock()
		j.release(cid, e)
		j.mu.Unlock()
		return d
	}
	claim("B", b, wants(true, "dup"))
	if d := claim("A", a, wants(true, "dup")); len(d.services) != 0 {
		t.Fatal("A got the ID while B runs")
	}
	claim("B", b, decision{keep: true}) // B crashed, kept in maintenance
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if id, _, ok := j.q.next(ctx); !ok || id != "A" {
		t.Fatalf("queued %q %v after the holder stopped running; want A converged again", id, ok)
	}
}

// A holder that stops keeps its ID until its convergence's writes are done:
// a waiter converged in between (another event of its own) is still refused,
// or the holder's deregistration, sent after, would remove the waiter's
// service. Seen in TestSharedServiceID under load.
func TestHolderYieldsOnlyAfterItsWrites(t *testing.T) {
	j, a, b := twoContainers()
	d := wants(true, "dup")
	j.claim("B", b, &d)
	b.actual, b.running = after(d, b.actual), true
	d = wants(true, "dup")
	if j.claim("A", a, &d); len(d.services) != 0 {
		t.Fatal("A got the ID while B runs")
	}

	stopping := wants(false, "dup") // B stops: maintenance, then deregistration
	j.claim("B", b, &stopping)
	if len(stopping.services) != 1 {
		t.Fatalf("the stopping holder lost its own service: %+v", stopping.services)
	}
	d = wants(true, "dup")
	if j.claim("A", a, &d); len(d.services) != 0 {
		t.Fatal("A took the ID before the stopping holder's writes were done")
	}
	b.actual, b.running = map[string]actualService{}, false // B's service deregistered
	j.mu.Lock()
	j.release("B", b)
	j.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if id, _, ok := j.q.next(ctx); !ok || id != "A" {
		t.Fatalf("queued %q %v after the holder's writes; want A converged again", id, ok)
	}
	d = wants(true, "dup")
	if j.claim("A", a, &d); len(d.services) != 1 {
		t.Fatal("A did not get the ID once the holder's service was gone")
	}
}

// twoContainers is a job with containers A and B, and their entries.
func twoContainers() (j *Job, a, b *entry) {
	j = &Job{q: newQueue(), entries: map[string]*entry{}, holders: map[string]*holder{}}
	a, b = &entry{name: "a"}, &entry{name: "b"}
	j.entries["A"], j.entries["B"] = a, b
	return j, a, b
}

// wants is the decision of a container that runs or not, with services of
// these IDs.
func wants(running bool, ids ...string) decision {
	d := decision{running: running}
	for _, id := range ids {
		d.services = append(d.services, &service{Reg: &api.AgentServiceRegistration{ID: id}})
	}
	return d
}
