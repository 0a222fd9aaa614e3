package dedup

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dedup"
)

// start starts n members with HOSTTAG=tag against addr, after the state
// every template needs exists.
func start(t *testing.T, c *testenv.Consul, addr string, tags ...string) *fleet {
	t.Helper()
	f := &fleet{t: t, consul: c}
	c.PutKV("app/config", "v0")
	for i, tag := range tags {
		c.PutKV("hosts/"+tag, "host-"+tag)
		m := newMember(t, fmt.Sprintf("drcon-%d", i), addr, "HOSTTAG="+tag)
		f.members = append(f.members, m)
	}
	f.register("web", "web-1", 8001)
	f.register("api", "api-1", 9001)
	for _, m := range f.members {
		m.start()
	}
	return f
}

// TestAgentsShareAndRenderTheSame runs four agents with the same
// configuration through a series of changes: one leader queries Consul,
// the others answer from its data, and every file is the same everywhere.
func TestAgentsShareAndRenderTheSame(t *testing.T) {
	c := testenv.StartConsul(t)
	proxy := testenv.StartProxy(t, c.Addr)
	f := start(t, c, proxy.Addr, "same", "same", "same", "same")
	f.settled(1, waitLimit)
	f.same("web.out", "web: web-1@127.0.0.1:8001", waitLimit)

	// Only the leader holds the shared queries: every other blocking query
	// open is one of the node's (host-specific, one per agent), a lock
	// watch or a data watch (one per follower, and the leader's guard).
	testenv.WaitFor(t, waitLimit, "one blocking query per shared dependency", func() bool {
		open, distinct := proxy.Blocking()
		const agents, followers = 4, 3
		return open-distinct == (agents-1)+(followers-1)+followers
	})

	changes := []struct {
		name   string
		change func()
		want   string // the file contains it after the change...
		gone   string // ...and no longer this
	}{
		{"a key", func() { c.PutKV("app/config", "v1") }, "config=v1", "config=v0"},
		{"an instance", func() { f.register("web", "web-2", 8002) }, "web-2@127.0.0.1:8002", ""},
		{"a new service (a new set)", func() { f.register("db", "db-1", 7001) }, "db: db-1@127.0.0.1:7001", ""},
		{"an instance gone", func() { f.deregister("web-1") }, "web-2", "web-1"},
		{"a service gone (the set shrinks)", func() { f.deregister("api-1") }, "db-1", "api"},
		{"a key again", func() { c.PutKV("app/config", "v2") }, "config=v2", "config=v1"},
	}
	for _, ch := range changes {
		ch.change()
		f.converge("web.out", func(s string) bool {
			return strings.Contains(s, ch.want) && (ch.gone == "" || !strings.Contains(s, ch.gone))
		}, waitLimit)
		f.settled(1, waitLimit)
	}
	f.same("local.out", "tag=same node=drcon-test", waitLimit)

	// /metrics says what the status says: one leader, and followers that
	// answer from its data. Both are read while the group may still be
	// moving, so wait for them to agree.
	deadline := time.Now().Add(waitLimit)
	for why := metricsDisagree(f.live()); why != ""; why = metricsDisagree(f.live()) {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", waitLimit, why)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metricsDisagree says how the members' dedup metrics differ from their
// status and from one settled group; "" when they agree.
func metricsDisagree(members []*member) string {
	var leaders float64
	for _, m := range members {
		leaders += m.gauge("drcon_dedup_leader")
		d := m.dedup()
		if d.Role != dedup.RoleFollower {
			continue
		}
		if got := m.gauge("drcon_dedup_shared_dependencies"); got != float64(d.Shared) || got == 0 {
			return fmt.Sprintf("%s: drcon_dedup_shared_dependencies %v, status says %d shared", m.name, got, d.Shared)
		}
		if got := m.gauge("drcon_dedup_fallback"); got != 0 {
			return fmt.Sprintf("%s: drcon_dedup_fallback %v while it follows", m.name, got)
		}
	}
	if leaders != 1 {
		return fmt.Sprintf("drcon_dedup_leader sums to %v over the agents, want 1", leaders)
	}
	return ""
}

// TestEnvDependentSetsDoNotShare: agents whose environment makes them need
// different data form different groups (consul-template keyed dedup on the
// template's text, so these collided: #827, #1119).
func TestEnvDependentSetsDoNotShare(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "a", "a", "b", "b")
	f.settled(2, waitLimit)
	c.PutKV("hosts/a", "changed-a")
	c.PutKV("app/config", "v9")
	testenv.WaitFor(t, waitLimit, "each agent's own host key", func() bool {
		for i, m := range f.members {
			want := "host=changed-a"
			if i >= 2 {
				want = "host=host-b"
			}
			if got := m.read("web.out"); !strings.Contains(got, want) || !strings.Contains(got, "config=v9") {
				return false
			}
		}
		return true
	})
}

// TestLeaderKilled kills the leader with SIGKILL: changes keep flowing to
// the others within the TTL, one of them leads, and the killed agent
// rejoins when restarted, with nothing cleaned up by hand.
func TestLeaderKilled(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leader := f.settled(1, waitLimit)[0]
	old := leader.dedup().Group

	leader.kill()
	killed := time.Now()
	c.PutKV("app/config", "after-kill")
	f.same("web.out", "config=after-kill", ttl+waitLimit)
	t.Logf("first render on the survivors %s after the kill", time.Since(killed).Round(time.Millisecond))
	f.settled(1, ttl+waitLimit)
	f.register("web", "web-2", 8002)
	f.same("web.out", "web-2@127.0.0.1:8002", waitLimit)

	leader.start()
	f.settled(1, 2*ttl+waitLimit)
	if g := leader.dedup().Group; g != old {
		t.Fatalf("the restarted agent joined %s, want %s", g, old)
	}
	c.PutKV("app/config", "after-restart")
	f.same("web.out", "config=after-restart", waitLimit)
}

// TestCleanStopAndReload: SIGHUP keeps the lock and the data when the set
// did not change; SIGTERM lets go of the lock at once, so that another
// agent leads well before the TTL.
func TestCleanStopAndReload(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leader := f.settled(1, waitLimit)[0]
	group := leader.dedup().Group
	lockBefore, _, err := c.Client().KV().Get(group+"/lock", nil)
	if err != nil || lockBefore == nil {
		t.Fatalf("lock: %v %v", lockBefore, err)
	}
	dataBefore, _, err := c.Client().KV().Get(group+"/data", nil)
	if err != nil || dataBefore == nil {
		t.Fatalf("data: %v %v", dataBefore, err)
	}

	// A reload that changes a job but not the set of shared data.
	cfg := filepath.Join(leader.dir, "drcon.hcl")
	rewrite(t, cfg, `contents    = "tag=`, `contents    = "reloaded tag=`)
	if err := leader.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the reloaded template", func() bool {
		return strings.HasPrefix(leader.read("local.out"), "reloaded")
	})
	lockAfter, _, _ := c.Client().KV().Get(group+"/lock", nil)
	dataAfter, _, _ := c.Client().KV().Get(group+"/data", nil)
	if lockAfter == nil || lockAfter.Session != lockBefore.Session || dataAfter == nil ||
		!bytes.Equal(dataAfter.Value, dataBefore.Value) {
		t.Fatalf("the reload let go of the lock or rewrote the data: lock %+v, data changed %v", lockAfter,
			dataAfter == nil || !bytes.Equal(dataAfter.Value, dataBefore.Value))
	}
	if s := leader.dedup(); s.Role != "leader" || s.Group != group {
		t.Fatalf("after the reload: %+v", s)
	}

	stopped := time.Now()
	leader.stop()
	leaders := f.settled(1, waitLimit)
	if took := time.Since(stopped); took >= ttl {
		t.Fatalf("hand-over after a clean stop took %s, not less than the TTL", took)
	}
	if leaders[0] == leader {
		t.Fatal("the stopped agent still leads")
	}
	c.PutKV("app/config", "after-stop")
	f.same("web.out", "config=after-stop", waitLimit)
}

// TestConsulRestart restarts the dev agent, which forgets every key,
// session and service: everyone recovers and shares again.
func TestConsulRestart(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	f.settled(1, waitLimit)

	c.Restart()
	c.PutKV("app/config", "after-restart")
	c.PutKV("hosts/same", "host-same")
	f.register("web", "web-9", 8009)
	f.same("web.out", "web: web-9@127.0.0.1:8009", 2*waitLimit)
	f.same("web.out", "config=after-restart", waitLimit)
	f.settled(1, 2*ttl+waitLimit)
	c.PutKV("app/config", "later")
	f.same("web.out", "config=later", waitLimit)
}

// TestDamagedDataFallsBack writes over the shared data by hand: followers
// query Consul themselves and say why, until the leader replaces the data.
// The leader is frozen while the damage is read: awake, it replaces the
// data within milliseconds, and a busy follower's blocking query may then
// return only the replacement and never see the damage.
func TestDamagedDataFallsBack(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leaders := f.settled(1, waitLimit)

	for _, damage := range []struct {
		value []byte
		log   string
	}{
		{[]byte("written by hand"), `reason="corrupt data: not drcon dedup data"`},
		{[]byte("drcon-dedup-data/99\na future layout"), `reason="written in a newer format: version 99;`},
	} {
		leader := leaders[0]
		key := leader.dedup().Group + "/data"
		if err := leader.proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		leader.stopped = true
		if _, err := c.Client().KV().Put(&api.KVPair{Key: key, Value: damage.value}, nil); err != nil {
			t.Fatal(err)
		}
		for _, m := range f.live() {
			testenv.WaitFor(t, waitLimit, m.name+" saying why it queries Consul itself", func() bool {
				return strings.Contains(m.proc.Output(), damage.log)
			})
		}
		if err := leader.proc.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		leader.stopped = false
		// Thawed within the TTL it replaces the data; later, another
		// member has taken over and does.
		leaders = f.settled(1, 2*ttl+waitLimit)
	}
	c.PutKV("app/config", "after-damage")
	f.same("web.out", "config=after-damage", waitLimit)
}

// TestFrozenLeaderIsDeposed freezes the leader (SIGSTOP, as a partition
// would cut it off): the others depose it after the TTL and keep changes
// flowing; thawed, it finds its session gone and follows the new leader.
func TestFrozenLeaderIsDeposed(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leader := f.settled(1, waitLimit)[0]
	lock := leader.dedup().Group + "/lock"
	held, _, err := c.Client().KV().Get(lock, nil)
	if err != nil || held == nil || held.Session == "" {
		t.Fatalf("the leader's lock: %+v %v", held, err)
	}
	if err := leader.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	leader.stopped = true
	c.PutKV("app/config", "while-frozen")
	f.same("web.out", "config=while-frozen", ttl+waitLimit)
	// Followers render by querying Consul themselves before the leader is
	// deposed; thaw it only once its session has lost the lock.
	testenv.WaitFor(t, 2*ttl+waitLimit, "the frozen leader's session losing the lock", func() bool {
		now, _, err := c.Client().KV().Get(lock, nil)
		return err == nil && (now == nil || now.Session != held.Session)
	})

	if err := leader.proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	leader.stopped = false
	leaders := f.settled(1, waitLimit)
	if leaders[0] == leader {
		t.Fatal("the thawed agent leads again; its session should have been destroyed")
	}
	c.PutKV("app/config", "thawed")
	f.same("web.out", "config=thawed", waitLimit)
}

// TestFreeLockRefusedForItsLockDelay: a pair of agents. The leader freezes
// and its session ends while another session, with Consul's default lock
// delay of 15s, holds the lock for a moment (as a deposing follower's
// first try may meet the 1ms delay of drcon's sessions): the follower finds
// the lock free, Consul refuses it for the delay, and no change of the lock
// comes later to wake the follower. It must try again, and lead. Thawed,
// the old leader follows, with no word of a canceled request in its log.
func TestFreeLockRefusedForItsLockDelay(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same")
	leader := f.settled(1, waitLimit)[0]
	follower := f.members[0]
	if follower == leader {
		follower = f.members[1]
	}
	lock := leader.dedup().Group + "/lock"
	for _, m := range f.members {
		if err := m.proc.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}
	leader.stopped = true
	kv, sessions := c.Client().KV(), c.Client().Session()
	held, _, err := kv.Get(lock, nil)
	if err != nil || held == nil || held.Session == "" {
		t.Fatalf("the leader's lock: %+v %v", held, err)
	}
	if _, err := sessions.Destroy(held.Session, nil); err != nil {
		t.Fatal(err)
	}
	other, _, err := sessions.Create(&api.SessionEntry{Name: "test", LockDelay: 15 * time.Second, TTL: "60s",
		Behavior: api.SessionBehaviorRelease}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := kv.Acquire(&api.KVPair{Key: lock, Session: other}, nil); err != nil || !ok {
		t.Fatalf("take the lock: %v %v", ok, err)
	}
	if _, err := sessions.Destroy(other, nil); err != nil {
		t.Fatal(err)
	}
	if err := follower.proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	f.settled(1, 2*ttl+waitLimit)

	if err := leader.proc.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	leader.stopped = false
	if leaders := f.settled(1, waitLimit); leaders[0] != follower {
		t.Fatal("the thawed agent leads again")
	}
	c.PutKV("app/config", "thawed")
	f.same("web.out", "config=thawed", waitLimit)
	if out := leader.proc.Output(); strings.Contains(out, "context canceled") {
		t.Fatalf("the thawed agent logged a canceled request as a failure:\n%s", out)
	}
}

// TestTooLargeToShare: answers that do not fit in one KV value are left
// out of the data, and their followers query them directly.
func TestTooLargeToShare(t *testing.T) {
	c := testenv.StartConsul(t)
	big := make([]byte, 300<<10)
	_, _ = rand.Read(big)
	for _, k := range []string{"big/a", "big/b"} {
		// Random bytes in base64 hardly compress: two of them are more
		// than one KV value can hold.
		c.PutKV(k, base64.StdEncoding.EncodeToString(big))
	}
	f := start(t, c, c.Addr, "same", "same", "same")
	for _, m := range f.members {
		rewrite(t, filepath.Join(m.dir, "drcon.hcl"), `config={{ key "app/config" }}`,
			`config={{ key "app/config" }} a={{ key "big/a" | len }} b={{ key "big/b" | len }}`)
		if err := m.proc.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	f.same("web.out", "a=409600 b=409600", waitLimit)
	var leader *member
	testenv.WaitFor(t, waitLimit, "one answer left out, the rest shared", func() bool {
		leader = nil
		for _, m := range f.members {
			s := m.dedup()
			switch {
			case s.Role == "leader" && len(s.Omitted) == 1 && strings.HasPrefix(s.Omitted[0], "kv.block(big/"):
				leader = m
			case s.Role != "follower" || s.Fallback != "" || s.Shared != s.Dependencies-1:
				return false
			}
		}
		return leader != nil
	})
	// The leader warns once about what it leaves out, not at every change.
	const warning = "answers too large to publish"
	warned := strings.Count(leader.proc.Output(), warning)
	for _, v := range []string{"small-change", "another-change"} {
		c.PutKV("app/config", v)
		f.same("web.out", "config="+v+" a=409600 b=409600", waitLimit)
	}
	if s := leader.dedup(); s.Role != dedup.RoleLeader {
		t.Fatalf("%s no longer leads: %+v", leader.name, s)
	}
	if n := strings.Count(leader.proc.Output(), warning); warned == 0 || n != warned {
		t.Fatalf("%q logged %d times before two changes and %d times after, want once", warning, warned, n)
	}
}

// TestRetiredSetsAreSwept: the keys of a set whose lock has been free for
// an hour are deleted by a leader; those of a set let go of recently, and
// anything else under the prefix, are kept.
func TestRetiredSetsAreSwept(t *testing.T) {
	c := testenv.StartConsul(t)
	kv := c.Client().KV()
	beat := func(at time.Time) []byte {
		return []byte(fmt.Sprintf(`{"format":"drcon-dedup-lock","version":1,"session":"gone","seq":9,"at":%q,"published":3,"released":true}`,
			at.UTC().Format(time.RFC3339Nano)))
	}
	retired, recent := "drcon/dedup/0123456789abcdef0123456789abcdef", "drcon/dedup/fedcba9876543210fedcba9876543210"
	for key, value := range map[string][]byte{
		retired + "/lock":              beat(time.Now().Add(-2 * time.Hour)),
		retired + "/data":              []byte("drcon-dedup-data/1\nold"),
		recent + "/lock":               beat(time.Now().Add(-time.Minute)),
		recent + "/data":               []byte("drcon-dedup-data/1\nrecent"),
		"drcon/dedup/an-operator-note": []byte("keep me"),
	} {
		if _, err := kv.Put(&api.KVPair{Key: key, Value: value}, nil); err != nil {
			t.Fatal(err)
		}
	}
	f := start(t, c, c.Addr, "same")
	f.settled(1, waitLimit)
	testenv.WaitFor(t, waitLimit, "the retired set's keys deleted", func() bool {
		keys, _, err := kv.Keys("drcon/dedup/", "", nil)
		return err == nil && !slices.Contains(keys, retired+"/lock") && !slices.Contains(keys, retired+"/data")
	})
	keys, _, err := kv.Keys("drcon/dedup/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{recent + "/lock", recent + "/data", "drcon/dedup/an-operator-note"} {
		if !slices.Contains(keys, k) {
			t.Errorf("%s was deleted", k)
		}
	}
}

// dedupChild records, in the member's child.log, the config line of its
// web.out when it starts and each time it is told to reload.
const dedupChild = `
log() { echo "$1 $(grep -o 'config=.*' web.out)" >> child.log; }
trap 'log hup' HUP
log start
while :; do sleep 0.05; done
`

// TestDedupWithExec: dedup and exec mode together (consul-template #1609
// reported the pair broken): every member, leader or follower, starts its
// child once its files are rendered and signals it on each change.
func TestDedupWithExec(t *testing.T) {
	c := testenv.StartConsul(t)
	f := &fleet{t: t, consul: c}
	c.PutKV("app/config", "v0")
	c.PutKV("hosts/same", "host-same")
	for i := range 2 {
		m := newMember(t, fmt.Sprintf("drcon-%d", i), c.Addr, "HOSTTAG=same")
		script := filepath.Join(m.dir, "child.sh")
		if err := os.WriteFile(script, []byte(dedupChild), 0o755); err != nil {
			t.Fatal(err)
		}
		hcl := filepath.Join(m.dir, "drcon.hcl")
		b, err := os.ReadFile(hcl)
		if err != nil {
			t.Fatal(err)
		}
		block := fmt.Sprintf("exec {\n  command = [\"/bin/sh\", %q]\n  reload_signal = \"SIGHUP\"\n}\n", script)
		if err := os.WriteFile(hcl, append(b, block...), 0o644); err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m)
	}
	f.register("web", "web-1", 8001)
	for _, m := range f.members {
		m.start()
	}
	f.settled(1, waitLimit)
	for _, m := range f.members {
		testenv.WaitFor(t, waitLimit, m.name+"'s child", func() bool { return m.read("child.log") == "start config=v0\n" })
	}
	c.PutKV("app/config", "v1")
	for _, m := range f.members {
		testenv.WaitFor(t, waitLimit, m.name+"'s child told of the change", func() bool {
			return strings.HasSuffix(m.read("child.log"), "hup config=v1\n")
		})
	}
}

// TestLongerTTLLeaderIsKept: a leader whose ttl is longer than its
// followers' (a fleet midway through a change of ttl) beats at its own,
// slower pace; the followers judge it by that pace instead of deposing it
// at every beat and handing the lock round the group.
func TestLongerTTLLeaderIsKept(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same")
	leader := f.members[0]
	rewrite(t, filepath.Join(leader.dir, "drcon.hcl"), `ttl = "10s"`, `ttl = "45s"`)
	if err := leader.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the leader beating at its 45s ttl", func() bool {
		s := leader.dedup()
		if s.Role != dedup.RoleLeader {
			return false
		}
		p, _, err := c.Client().KV().Get(s.Group+"/lock", nil)
		return err == nil && p != nil && strings.Contains(string(p.Value), `"ttl":"45s"`)
	})
	for i := 1; i <= 2; i++ {
		m := newMember(t, fmt.Sprintf("drcon-%d", i), c.Addr, "HOSTTAG=same")
		f.members = append(f.members, m)
		m.start()
	}
	lock := f.settled(1, waitLimit)[0].dedup().Group + "/lock"
	// A beat every 15s: followers with a 10s ttl would have deposed it
	// before the second.
	held, _, err := c.Client().KV().Get(lock, nil)
	if err != nil || held == nil {
		t.Fatalf("lock: %+v %v", held, err)
	}
	beats := 0
	for index := held.ModifyIndex; beats < 2; beats++ {
		p, meta, err := c.Client().KV().Get(lock, &api.QueryOptions{WaitIndex: index, WaitTime: 2 * ttl})
		if err != nil || p == nil || p.Session != held.Session {
			t.Fatalf("after %d beats the lock is %v (%v), want it held by the 45s leader's session %s", beats, pairSession(p), err, held.Session)
		}
		index = meta.LastIndex
	}
	for _, m := range f.live() {
		if out := m.proc.Output(); strings.Contains(out, "deposing") || strings.Contains(out, "silent for") {
			t.Fatalf("%s deposed or distrusted the live leader:\n%s", m.name, out)
		}
	}
	f.settled(1, waitLimit)
	c.PutKV("app/config", "v1")
	f.same("web.out", "config=v1", waitLimit)
}

// pairSession is the session holding a KV pair, for messages.
func pairSession(p *api.KVPair) string {
	if p == nil {
		return "absent"
	}
	return fmt.Sprintf("held by session %q", p.Session)
}

// TestReloadedLeaderCutOff: a leader cut off from Consul when a reload
// changes its set cannot let go of its lock. Its old group's followers
// depose its session after the TTL; the agent must not have taken that
// session into its new group, which would then lose its leader too.
func TestReloadedLeaderCutOff(t *testing.T) {
	c := testenv.StartConsul(t)
	link := testenv.StartProxy(t, c.Addr)
	f := start(t, c, link.Addr, "same")
	leader := f.members[0]
	f.settled(1, waitLimit)
	for i := 1; i <= 2; i++ {
		m := newMember(t, fmt.Sprintf("drcon-%d", i), c.Addr, "HOSTTAG=same")
		f.members = append(f.members, m)
		m.start()
	}
	if f.settled(1, waitLimit)[0] != leader {
		t.Fatal("the first agent does not lead")
	}

	link.Cut()
	rewrite(t, filepath.Join(leader.dir, "drcon.hcl"), `config={{ key "app/config" }}`, `config=none`)
	if err := leader.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the leader failing to let go of its lock", func() bool {
		return strings.Contains(leader.proc.Output(), "could not let go of the group's keys") ||
			strings.Contains(leader.proc.Output(), "dedup: release ")
	})
	link.Mend()
	// Two groups: the old one led by one of the others once they deposed
	// the cut-off session, the new one by the reloaded agent.
	f.settled(2, 2*ttl+waitLimit)
	kv := c.Client().KV()
	lock := leader.dedup().Group + "/lock"
	held, _, err := kv.Get(lock, nil)
	if err != nil || held == nil || held.Session == "" {
		t.Fatalf("the new group's lock is %v (%v): it went with the deposed session", pairSession(held), err)
	}
	// A leader whose session was destroyed finds out at its next beat.
	testenv.WaitFor(t, waitLimit, "the next beat in the new group", func() bool {
		p, _, err := kv.Get(lock, nil)
		return err == nil && (p == nil || p.ModifyIndex != held.ModifyIndex)
	})
	if out := leader.proc.Output(); strings.Contains(out, "stopped leading") {
		t.Fatalf("the reloaded agent lost its new group when its old session was deposed:\n%s", out)
	}
	c.PutKV("app/config", "v1")
	for _, m := range f.members[1:] {
		testenv.WaitFor(t, waitLimit, m.name+" rendering the change", func() bool { return strings.Contains(m.read("web.out"), "config=v1") })
	}
}

// TestStopDestroysSessionItCannotRelease: a leader stopped while Consul
// refuses its releases destroys its session, which frees the lock at once;
// it must not leave the lock held until the followers depose it.
func TestStopDestroysSessionItCannotRelease(t *testing.T) {
	c := testenv.StartConsul(t)
	link := testenv.StartProxy(t, c.Addr)
	f := start(t, c, link.Addr, "same")
	leader := f.settled(1, waitLimit)[0]
	lock := leader.dedup().Group + "/lock"
	kv := c.Client().KV()
	p, _, err := kv.Get(lock, nil)
	if err != nil || p == nil || p.Session == "" {
		t.Fatalf("the lock is %v (%v)", pairSession(p), err)
	}
	link.Refuse(func(r *http.Request) bool { return r.URL.Query().Has("release") })
	leader.stop()
	<-leader.proc.Done()
	if !strings.Contains(leader.proc.Output(), "refused by the test") {
		t.Fatalf("the leader did not try to release its keys:\n%s", leader.proc.Output())
	}
	if e, _, err := c.Client().Session().Info(p.Session, nil); err != nil || e != nil {
		t.Fatalf("the stopped leader's session %s is still there (%v): it holds the lock until a deposal", p.Session, err)
	}
	if p, _, err := kv.Get(lock, nil); err != nil || p == nil || p.Session != "" {
		t.Fatalf("the lock is %v (%v), want free", pairSession(p), err)
	}
}

// TestStoppedLeaderKeepsTheData: a leader that stops lets go of the data
// key without emptying it, so that its followers keep answering from it
// until the next leader publishes, instead of reading an empty value as
// damage and sending every query to Consul at once.
func TestStoppedLeaderKeepsTheData(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leader := f.settled(1, waitLimit)[0]
	key := leader.dedup().Group + "/data"
	// Frozen, the followers cannot take over before the key is read.
	var frozen []*member
	for _, m := range f.live() {
		if m != leader {
			if err := m.proc.Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			frozen = append(frozen, m)
		}
	}
	thaw := func() {
		for _, m := range frozen {
			if err := m.proc.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
		}
		frozen = nil
	}
	defer thaw()
	leader.stop()
	<-leader.proc.Done()
	p, _, err := c.Client().KV().Get(key, nil)
	if err != nil || p == nil {
		t.Fatalf("data key: %v %v", p, err)
	}
	if p.Session != "" {
		t.Fatalf("the stopped leader still holds the data key")
	}
	if _, err := dedup.DecodeData(p.Value, nil); err != nil {
		t.Fatalf("the data key after the leader let go: %v (%d bytes)", err, len(p.Value))
	}
	thaw()
	f.settled(1, waitLimit)
	for _, m := range f.live() {
		if out := m.proc.Output(); strings.Contains(out, "corrupt data") {
			t.Fatalf("%s read the data as damaged:\n%s", m.name, out)
		}
	}
	c.PutKV("app/config", "after-stop")
	f.same("web.out", "config=after-stop", waitLimit)
}

// TestLockDeleted: an operator deletes the lock key under its leader
// (cleaning up the prefix by hand); another agent takes the free lock
// while the old leader still holds the data key. They must not shut each
// other out for good, nor take turns as fast as Consul answers: one leads
// again and the followers share its data.
func TestLockDeleted(t *testing.T) {
	c := testenv.StartConsul(t)
	f := start(t, c, c.Addr, "same", "same", "same")
	leader := f.settled(1, waitLimit)[0]
	if _, err := c.Client().KV().Delete(leader.dedup().Group+"/lock", nil); err != nil {
		t.Fatal(err)
	}
	c.PutKV("app/config", "after-delete")
	f.same("web.out", "config=after-delete", waitLimit)
	f.settled(1, waitLimit)
	c.PutKV("app/config", "settled")
	f.same("web.out", "config=settled", waitLimit)
}
