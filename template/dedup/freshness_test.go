package dedup

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestJudge walks a follower through what it can observe of its group,
// step by step, and checks what it does after each step.
func TestJudge(t *testing.T) {
	const ttl = 15 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	// lock is an observation of the lock held by session with a beat.
	lock := func(index uint64, session string, b Beat) lockState {
		b.Session = session
		if b.Holder == "" {
			b.Holder = "host-" + session
		}
		return lockState{present: true, session: session, index: index, value: encodeBeat(b)}
	}
	data := func(session string, seq uint64) *Data {
		return &Data{Session: session, Holder: "host-" + session, Seq: seq}
	}
	type step struct {
		at    float64
		lock  *lockState
		data  *Data
		err   error
		serve bool
		why   string // part of the reason when not serving
		take  bool
	}
	ls := func(s lockState) *lockState { return &s }
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "joining a live group: a recent beat is trusted at once",
		steps: []step{
			{at: 0, why: "waiting for the data"},
			{at: 0.1, lock: ls(lock(10, "a", Beat{Seq: 4, At: at(-2)})), why: "waiting for the data"},
			{at: 0.2, data: data("a", 3), serve: true},
			{at: 12, lock: ls(lock(11, "a", Beat{Seq: 5})), serve: true}, // a live beat
			{at: 27.5, serve: true, take: true},
			{at: 28.5, why: "silent for 17s", take: true},
		},
	}, {
		name: "joining a group whose leader died: an old beat is not trusted",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{Seq: 4, At: at(-40)})), data: data("a", 3), why: "silent for 40s"},
			{at: 14, why: "silent"},
			// Deposing waits for ttl on this host's own clock.
			{at: 15.5, why: "silent", take: true},
		},
	}, {
		name: "a leader that stops beating is distrusted after ttl+grace and deposed after ttl",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 5, lock: ls(lock(11, "a", Beat{Seq: 1})), serve: true},
			{at: 19.9, serve: true, take: false},
			{at: 20.5, serve: true, take: true},
			{at: 21.5, why: "host-a, who wrote the data, silent for 17s", take: true},
		},
	}, {
		name: "a new publication is a sign of life",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 14, data: data("a", 2), serve: true},
			{at: 29, serve: true, take: true}, // data heard at 14: still fresh, but no beat since 0
			{at: 31, why: "silent for 17s", take: true},
		},
	}, {
		name: "a clean hand-over: the released beat keeps the old data until the new leader publishes",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 10, lock: &lockState{present: true, index: 12, value: encodeBeat(Beat{Session: "a", Seq: 3, Released: true})}, serve: true},
			{at: 10.1, lock: ls(lock(13, "b", Beat{})), serve: true},
			{at: 10.3, data: data("b", 1), serve: true},
			{at: 40, lock: ls(lock(14, "b", Beat{Seq: 9})), serve: true},
		},
	}, {
		name: "after a takeover the old data is kept only for the grace",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 15.2, serve: true, take: true},
			{at: 15.3, lock: ls(lock(12, "b", Beat{})), serve: true},
			{at: 16.1, why: "silent for 16s"},
			{at: 16.2, data: data("b", 1), serve: true},
		},
	}, {
		// The deposer cannot take the lock (writes refused, the deposed
		// session's lock delay): the lock stays free with the old beat.
		name: "a deposed leader's lock, freed by Consul with its last beat, is no sign of life",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 15.2, serve: true, take: true},
			{at: 15.3, lock: &lockState{present: true, index: 12, value: encodeBeat(Beat{Session: "a", Holder: "host-a", At: at(0)})},
				serve: true},
			{at: 16.1, why: "host-a, who wrote the data, silent for 16s"},
			{at: 30, why: "silent for 30s"},
		},
	}, {
		name: "a leader that cannot publish is not trusted",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 5, lock: ls(lock(11, "a", Beat{Seq: 1, Published: 1, Error: "value too large"})), why: "cannot publish: value too large"},
			{at: 10, lock: ls(lock(12, "a", Beat{Seq: 2, Published: 1})), serve: true},
		},
	}, {
		name: "data behind the leader's publication is distrusted after the grace",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0), Published: 1})), data: data("a", 1), serve: true},
			{at: 5, lock: ls(lock(11, "a", Beat{Seq: 1, Published: 3})), serve: true},
			{at: 5.9, serve: true},
			{at: 6.1, why: "behind host-a's publication 3"},
			{at: 6.2, data: data("a", 3), serve: true},
		},
	}, {
		name: "corrupt, newer and missing data are not served",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0)})), data: data("a", 1), serve: true},
			{at: 1, err: fmt.Errorf("%w: not gzip", ErrCorrupt), why: "corrupt data: not gzip"},
			{at: 2, data: data("a", 2), serve: true},
			{at: 3, err: fmt.Errorf("%w: version 2", ErrNewerFormat), why: "newer format"},
			{at: 4, err: errNoData, why: "no data yet"},
		},
	}, {
		name: "a leader whose ttl is longer is judged by its own pace",
		steps: []step{
			{at: 0, lock: ls(lock(10, "a", Beat{At: at(0), TTL: 45 * time.Second})), data: data("a", 1), serve: true},
			{at: 14, lock: ls(lock(11, "a", Beat{Seq: 1, TTL: 45 * time.Second})), serve: true},
			{at: 44, serve: true}, // a beat every 15s: 30s without one is not silence
			{at: 59.5, serve: true, take: true},
			{at: 60.5, why: "silent for 47s", take: true},
			// A leader with a shorter ttl than this agent's is not judged sooner.
			{at: 61, lock: ls(lock(12, "b", Beat{TTL: 10 * time.Second})), data: data("b", 1), serve: true},
			{at: 74, serve: true},
		},
	}, {
		name: "a free lock is never deposed",
		steps: []step{
			{at: 0, lock: &lockState{}, data: data("a", 1), why: "waiting for a sign of life"},
			{at: 60, why: "waiting for a sign of life"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v view
			for i, s := range tt.steps {
				now := at(s.at)
				if s.lock != nil {
					v.onLock(*s.lock, now)
				}
				if s.data != nil || s.err != nil {
					v.onData(s.data, s.err, now)
				}
				got := judge(v, now, ttl, grace)
				if got.serve != s.serve || got.takeover != s.take || (s.why != "" && !strings.Contains(got.reason, s.why)) {
					t.Fatalf("step %d at %gs: serve %v takeover %v reason %q; want serve %v takeover %v reason containing %q",
						i, s.at, got.serve, got.takeover, got.reason, s.serve, s.take, s.why)
				}
			}
		})
	}
}

func TestDue(t *testing.T) {
	const ttl = 15 * time.Second
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var v view
	if d := v.due(t0, ttl, grace); !d.IsZero() {
		t.Fatalf("nothing observed: due %v", d)
	}
	v.onLock(lockState{present: true, session: "a", index: 1, value: encodeBeat(Beat{Session: "a", At: t0})}, t0)
	v.onData(&Data{Session: "a", Seq: 1}, nil, t0)
	// First the holder's silence reaches ttl, then the data goes stale.
	if d := v.due(t0, ttl, grace); d.Sub(t0) != ttl+time.Millisecond {
		t.Fatalf("due after %s, want ttl", d.Sub(t0))
	}
	if d := v.due(t0.Add(ttl+time.Second), ttl, grace); d.Sub(t0) != ttl+grace+time.Millisecond {
		t.Fatalf("due after %s, want ttl+grace", d.Sub(t0))
	}
	// Past every deadline nothing is due: the steady tick takes over.
	if d := v.due(t0.Add(time.Minute), ttl, grace); !d.IsZero() {
		t.Fatalf("due %v after every deadline", d)
	}
}
