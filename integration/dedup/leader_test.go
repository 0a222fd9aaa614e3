package dedup

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dedup"
)

// pair starts two members: the first, through link, leads; the second
// talks to Consul directly and follows.
func pair(t *testing.T, c *testenv.Consul, link *testenv.Proxy) (f *fleet, leader, follower *member) {
	t.Helper()
	f = &fleet{t: t, consul: c}
	c.PutKV("app/config", "v0")
	c.PutKV("hosts/same", "host-same")
	f.register("web", "web-1", 8001)
	leader = newMember(t, "drcon-0", link.Addr, "HOSTTAG=same")
	f.members = append(f.members, leader)
	leader.start()
	f.settled(1, waitLimit)
	follower = newMember(t, "drcon-1", c.Addr, "HOSTTAG=same")
	f.members = append(f.members, follower)
	follower.start()
	if f.settled(1, waitLimit)[0] != leader {
		t.Fatal("the first agent does not lead")
	}
	return f, leader, follower
}

// TestDependencyFailingForTheLeaderOnly: the leader's queries of one
// dependency fail (a datacenter only it cannot reach) while the follower's
// would not. The leader stops publishing its last answer, which may be out
// of date, at the first failure, and the follower queries that dependency
// itself: before, it was held to the leader's last answer until the leader's
// retries ran out (minutes), or for good with retry { attempts = 0 }.
func TestDependencyFailingForTheLeaderOnly(t *testing.T) {
	c := testenv.StartConsul(t)
	link := testenv.StartProxy(t, c.Addr)
	f, leader, follower := pair(t, c, link)
	var refused atomic.Int32
	link.Refuse(func(r *http.Request) bool {
		if r.URL.Path != "/v1/kv/app/config" {
			return false
		}
		refused.Add(1)
		return true
	})
	// End the leader's blocking query in flight, which the refusal does not
	// reach, so that the change is not its answer.
	link.Cut()
	link.Mend()
	testenv.WaitFor(t, waitLimit, "the leader's query refused", func() bool { return refused.Load() > 0 })
	c.PutKV("app/config", "leader-cannot-read")
	testenv.WaitFor(t, waitLimit, "the follower rendering the change", func() bool {
		return strings.Contains(follower.read("web.out"), "config=leader-cannot-read")
	})
	testenv.WaitFor(t, waitLimit, "the leader naming what it leaves out, the follower sharing the rest", func() bool {
		l, s := leader.dedup(), follower.dedup()
		return len(l.Omitted) == 1 && strings.HasPrefix(l.Omitted[0], "kv.block(app/config)") &&
			s.Fallback == "" && s.Shared == s.Dependencies-1
	})
	link.Refuse(nil)
	c.PutKV("app/config", "mended")
	f.same("web.out", "config=mended", waitLimit)
	f.settled(1, waitLimit)
}

// TestLeaderWarnsOncePerOutage: a lone leader whose writes Consul refuses
// beats every ttl/3 and retries its publication; it warns once for each,
// not at every try (the status keeps the error), and again at the next
// outage.
func TestLeaderWarnsOncePerOutage(t *testing.T) {
	c := testenv.StartConsul(t)
	link := testenv.StartProxy(t, c.Addr)
	f := start(t, c, link.Addr, "same")
	leader := f.settled(1, waitLimit)[0]
	group := leader.dedup().Group
	var beats, publications atomic.Int32
	refuse := func(r *http.Request) bool {
		switch {
		case r.Method != http.MethodPut:
			return false
		case r.URL.Path == "/v1/kv/"+group+"/lock":
			beats.Add(1)
		case r.URL.Path == "/v1/kv/"+group+"/data":
			publications.Add(1)
		default:
			return false
		}
		return true
	}
	warnings := func(what string) int { return strings.Count(leader.proc.Output(), `level=WARN msg="dedup: `+what+": ") }
	// A leader is settled once it holds the lock; its first publication
	// may still be on its way, and an outage from now on would refuse it.
	testenv.WaitFor(t, waitLimit, "the leader's first publication", func() bool {
		p, _, err := c.Client().KV().Get(group+"/data", nil)
		return err == nil && p != nil
	})
	for outage := 1; outage <= 2; outage++ {
		beats.Store(0)
		publications.Store(0)
		link.Refuse(refuse)
		c.PutKV("app/config", fmt.Sprintf("outage-%d", outage))
		testenv.WaitFor(t, 2*ttl+waitLimit, "three beats and three publications refused", func() bool {
			return beats.Load() >= 3 && publications.Load() >= 3
		})
		if b, p := warnings("beat"), warnings("publish"); b != outage || p != outage {
			t.Fatalf("outage %d: %d beat warnings and %d publish warnings, want %d each:\n%s", outage, b, p, outage,
				leader.proc.Output())
		}
		if s := leader.dedup(); s.Role != "leader" || !strings.Contains(s.LastError, "refused by the test") {
			t.Fatalf("outage %d: the status does not tell: %+v", outage, s)
		}
		// A beat and a publication that go through end the outage.
		var before [2]uint64
		for i, key := range []string{"/lock", "/data"} {
			p, _, err := c.Client().KV().Get(group+key, nil)
			if err != nil || p == nil {
				t.Fatalf("%s: %v %v", key, p, err)
			}
			before[i] = p.ModifyIndex
		}
		link.Refuse(nil)
		testenv.WaitFor(t, waitLimit, "a beat and a publication after the outage", func() bool {
			for i, key := range []string{"/lock", "/data"} {
				p, _, err := c.Client().KV().Get(group+key, nil)
				if err != nil || p == nil || p.ModifyIndex == before[i] {
					return false
				}
			}
			return true
		})
	}
}

// TestFailedPublicationOvertaken: the leader fails to publish, and before
// it tries again its answers come back to what the data key already holds
// (a query failed and answered again unchanged, while writes were refused).
// Nothing is left to write: the leader must stop telling its followers
// that it cannot publish, which kept them querying Consul themselves until
// the next change, however far off.
func TestFailedPublicationOvertaken(t *testing.T) {
	c := testenv.StartConsul(t)
	link := testenv.StartProxy(t, c.Addr)
	f, leader, follower := pair(t, c, link)
	data := "/v1/kv/" + leader.dedup().Group + "/data"
	link.Refuse(func(r *http.Request) bool {
		return r.URL.Path == "/v1/kv/app/config" || r.Method == http.MethodPut && r.URL.Path == data
	})
	// End the leader's blocking queries in flight, which the refusal does
	// not reach: they ask again, and that of app/config fails.
	link.Cut()
	link.Mend()
	testenv.WaitFor(t, waitLimit, "the follower told that the leader cannot publish", func() bool {
		return strings.Contains(follower.dedup().Fallback, "cannot publish")
	})
	// The query is answered again; the data key still takes no writes.
	link.Refuse(func(r *http.Request) bool { return r.Method == http.MethodPut && r.URL.Path == data })
	f.settled(1, 2*ttl+waitLimit)
	link.Refuse(nil)
	c.PutKV("app/config", "v1")
	f.same("web.out", "config=v1", waitLimit)
	f.settled(1, waitLimit)
}

// TestFormerLeaderFollowsQuietly: an agent that followed, then led (the
// others moved to another group), then moves to that group itself and
// follows again. Joining with no data yet is no news: it must not warn that
// it queries Consul directly, as a follower that distrusts data it trusted.
func TestFormerLeaderFollowsQuietly(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/other", "o0")
	f := start(t, c, c.Addr, "same", "same")
	leader := f.settled(1, waitLimit)[0]
	follower := f.members[0]
	if follower == leader {
		follower = f.members[1]
	}
	move := func(m *member) {
		t.Helper()
		rewrite(t, filepath.Join(m.dir, "drcon.hcl"), `config={{ key "app/config" }}`, `config={{ key "app/other" }}`)
		if err := m.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	move(leader)
	f.settled(2, waitLimit)
	if s := follower.dedup(); s.Role != dedup.RoleLeader {
		t.Fatalf("the agent left behind does not lead its group: %+v", s)
	}
	before := len(follower.proc.Output())
	move(follower)
	f.settled(1, waitLimit)
	if s := follower.dedup(); s.Role != dedup.RoleFollower {
		t.Fatalf("the agent that moved last does not follow: %+v", s)
	}
	if out := follower.proc.Output()[before:]; strings.Contains(out, `level=WARN msg="dedup: querying Consul directly"`) {
		t.Fatalf("the former leader warned on joining as a follower:\n%s", out)
	}
}
