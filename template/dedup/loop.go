package dedup

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/drcon/drcon/template/watch"
)

// errLost ends a leader that finds its lock or its data key held by
// another session.
var errLost = errors.New("lost the lock")

// depSet is the agent's current set of shareable dependencies, by
// canonical string; true marks a failing one, which is not published.
type depSet struct {
	id   string
	deps map[string]bool
}

// loop is Run's state, owned by its goroutine: the session, the group and
// role, and what a follower has observed. Watchers and the leader's
// publisher run in goroutines of the group and report here.
type loop struct {
	m       *Member
	ctx     context.Context
	watched func() []watch.DependencyStatus

	session string
	renewAt time.Time
	retryAt time.Time // no session creation or join before then
	fails   int
	// lost counts the leaderships in a row that ended, losing the lock or
	// the data key, before they published.
	lost int

	set      []string // shareable set at the last tick, sorted
	setID    string
	failing  map[string]bool
	complete bool // every dependency of the set has answered (or failed)
	since    time.Time
	pruneAt  time.Time

	g *group
	// prev is a follower's view of the group it just left: its data is
	// still served while it is fresh, so that moving between groups does
	// not send every query to Consul.
	prev *view

	lockObs   chan lockMsg
	dataObs   chan dataMsg
	leaderEnd chan leaderMsg
	// lastWhy and trusting are what the follower last logged.
	lastWhy  string
	trusting bool
}

// group is the agent's membership of one set's group.
type group struct {
	k      keys
	leader bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	view   view
	// tried is when the follower last tried to depose a silent leader.
	tried time.Time
	// takeErr is why the follower failed to take the lock when it last
	// found it free (an ACL without key:write, Consul unavailable), and
	// refused how many times in a row Consul answered no to taking a free
	// lock: it does for the lock delay of the session that held it, which
	// a follower that has just deposed that session meets at once. Either
	// way the follower tries again at retake while the lock stays free,
	// since no change of the lock key may come to wake it.
	takeErr string
	refused int
	retake  time.Time
	// lockErr and dataErr are the latest failures of the watches of the
	// lock and the data, cleared when the watch answers again.
	lockErr, dataErr string
	// lead is the leader goroutine's state, read after it ended.
	lead leadState
}

type lockMsg struct {
	g   *group
	s   lockState
	err error
}

type dataMsg struct {
	g   *group
	d   *Data
	err error
}

type leaderMsg struct {
	g   *group
	err error
}

func newLoop(m *Member, watched func() []watch.DependencyStatus) *loop {
	return &loop{m: m, watched: watched, lockObs: make(chan lockMsg), dataObs: make(chan dataMsg),
		leaderEnd: make(chan leaderMsg)}
}

func (l *loop) run(ctx context.Context) error {
	l.ctx = ctx
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.tick()
		case <-l.m.learned:
			l.tick()
		case msg := <-l.lockObs:
			if msg.g == l.g {
				l.onLock(msg)
			}
		case msg := <-l.dataObs:
			if msg.g == l.g {
				l.onData(msg)
			}
		case msg := <-l.leaderEnd:
			if msg.g == l.g {
				l.onLeaderEnd(msg)
			}
		}
		t.Reset(l.wait(time.Now()))
	}
}

// wait is how long the loop may sleep: settling while the set changes or
// a join is due; otherwise until the next moment a judgment could change
// or the session needs renewing, at most steady.
func (l *loop) wait(now time.Time) time.Duration {
	next := now.Add(steady)
	switch {
	case !l.complete:
		return settling
	case now.Sub(l.since) < settle:
		next = l.since.Add(settle)
	case len(l.set) > 0 && (l.g == nil || l.g.k.id != l.setID):
		next = l.retryAt
	case l.g != nil && !l.g.leader:
		for _, v := range []*view{&l.g.view, l.prev} {
			if v == nil {
				continue
			}
			if t := v.due(now, l.m.o.TTL, grace); !t.IsZero() && t.Before(next) {
				next = t
			}
		}
		if g := l.g; !g.retake.IsZero() && g.view.holder == "" && g.retake.Before(next) {
			next = g.retake
		}
	}
	if l.session != "" && l.renewAt.Before(next) {
		next = l.renewAt
	}
	return max(next.Sub(now), time.Millisecond)
}

func (l *loop) tick() {
	now := time.Now()
	l.observe(now)
	l.renew(now)
	settled := l.complete && now.Sub(l.since) >= settle
	switch {
	case !settled:
	case len(l.set) == 0:
		if l.g != nil {
			l.leave(l.ctx)
		}
		l.m.update(func(s *Status) {
			*s = Status{Role: RoleJoining, Fallback: "no shareable dependencies"}
		})
	case (l.g == nil || l.g.k.id != l.setID) && !now.Before(l.retryAt):
		l.join(now)
	}
	if g := l.g; settled && g != nil && g.k.id == l.setID && !g.leader && !g.retake.IsZero() && g.view.holder == "" &&
		!now.Before(g.retake) {
		l.tryAcquire(g)
	}
	if l.g != nil && !l.g.leader {
		l.judge(now)
	}
}

// observe reads the pool's set: which shareable dependencies are watched,
// whether each has answered, which are failing.
func (l *loop) observe(now time.Time) {
	st := l.watched()
	set := make([]string, 0, len(st))
	failing := map[string]bool{}
	complete := true
	for _, s := range st {
		shareable, known := l.m.shareable(s.Dependency)
		if !known {
			complete = false // not asked yet
			continue
		}
		if !shareable {
			continue
		}
		set = append(set, s.Dependency)
		if !s.HasData && s.Failures == 0 {
			complete = false
		}
		if s.Failing {
			failing[s.Dependency] = true
		}
	}
	l.complete = complete
	changed := !slices.Equal(set, l.set)
	if changed {
		l.set, l.setID, l.since = set, Identity(set), now
	}
	if changed || !maps.Equal(failing, l.failing) {
		l.failing = failing
		deps := make(map[string]bool, len(set))
		for _, d := range set {
			deps[d] = failing[d]
		}
		l.m.set.Store(&depSet{id: l.setID, deps: deps})
		l.m.rec.poke()
		l.m.update(func(s *Status) { s.Dependencies = len(set) })
	}
	if now.After(l.pruneAt) {
		l.pruneAt = now.Add(5 * time.Second)
		l.m.forget(st, set)
	}
}

func (l *loop) renew(now time.Time) {
	if l.session == "" || now.Before(l.renewAt) {
		return
	}
	switch err := l.m.renewSession(l.ctx, l.session); {
	case errors.Is(err, errSessionGone):
		l.m.log.Warn("dedup session expired; joining again with a new one")
		l.sessionLost()
	case err != nil:
		l.fail(err)
		l.renewAt = now.Add(time.Second)
	default:
		l.renewAt = now.Add(l.m.o.TTL / 2)
	}
}

// fail records a failure to talk to Consul and delays the next join.
func (l *loop) fail(err error) {
	l.backOff()
	if errors.Is(err, context.Canceled) && l.ctx.Err() != nil {
		return // the agent stops or reloads: no failure of Consul's
	}
	l.m.log.Warn("dedup: " + err.Error())
	l.m.update(func(s *Status) { s.LastError, s.LastErrorAt = err.Error(), time.Now() })
}

// backOff counts a failure and puts off the next try.
func (l *loop) backOff() {
	l.fails++
	l.retryAt = time.Now().Add(backoff(l.fails))
}

// stop leaves the group and destroys the session when Run returns, with a
// context of its own: Run's has ended.
func (l *loop) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if l.g != nil {
		l.leave(ctx)
	}
	if l.session != "" {
		if err := l.m.destroySession(ctx, l.session); err != nil {
			l.m.log.Warn("dedup: " + err.Error())
		}
	}
	l.m.srv.serve(nil)
	l.m.update(func(s *Status) { *s = Status{Role: RoleJoining, Fallback: "stopped"} })
}

// start runs fns in goroutines of the group until stop.
func (g *group) start(parent context.Context, fns ...func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(parent)
	g.cancel = cancel
	for _, fn := range fns {
		g.wg.Go(func() { fn(ctx) })
	}
}

// stop ends the group's goroutines and waits for them.
func (g *group) stop() {
	if g.cancel != nil {
		g.cancel()
		g.wg.Wait()
		g.cancel = nil
	}
}
