package dedup

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"
)

// join makes the agent a member of the group of its settled set: leader
// if it gets the lock, follower otherwise.
func (l *loop) join(now time.Time) {
	if l.g != nil {
		l.leave(l.ctx)
	}
	if l.session == "" {
		id, err := l.m.createSession(l.ctx)
		if err != nil {
			l.fail(err)
			l.m.update(func(s *Status) {
				*s = Status{Role: RoleJoining, Dependencies: len(l.set), Fallback: "cannot join a group: " + err.Error(),
					LastError: s.LastError, LastErrorAt: s.LastErrorAt}
			})
			return
		}
		l.session, l.renewAt = id, now.Add(l.m.o.TTL/2)
	}
	g := &group{k: groupKeys(l.m.o.Prefix, l.setID)}
	l.g = g
	if !l.tryAcquire(g) && l.g == g {
		l.startFollower(g)
	}
}

// tryAcquire takes g's lock if it is free and reports whether the agent
// now leads g.
func (l *loop) tryAcquire(g *group) bool {
	ok, err := l.m.acquire(l.ctx, g.k.lock, l.session, encodeBeat(l.beat(0, 0)))
	switch {
	case errors.Is(err, errSessionGone):
		l.sessionLost()
		return false
	case err != nil:
		if err.Error() == g.takeErr {
			// Warned already, and in the status until it changes.
			l.backOff()
			l.m.log.Debug("dedup: " + err.Error())
		} else {
			l.fail(err)
		}
		g.takeErr, g.retake = err.Error(), l.retryAt
		return false
	case !ok:
		// Taken by another agent, which the lock's watch will show, or
		// refused for its lock delay.
		g.takeErr = ""
		g.refused++
		g.retake = time.Now().Add(backoff(g.refused))
		return false
	}
	g.takeErr, g.refused, g.retake = "", 0, time.Time{}
	l.fails = 0
	g.stop()
	l.startLeader(g)
	return true
}

func (l *loop) beat(seq, published uint64) Beat {
	return Beat{Holder: l.m.holder, Drcon: l.m.o.Version, Session: l.session, Seq: seq, At: time.Now(), Published: published,
		TTL: l.m.o.TTL}
}

func (l *loop) startLeader(g *group) {
	g.leader = true
	l.prev = nil
	l.m.srv.serve(nil)
	// What it last logged as a follower is no longer so: should it follow
	// again, not having data yet is no news.
	l.lastWhy, l.trusting = "", false
	session := l.session
	seen := make(chan *[sha256.Size]byte)
	g.start(l.ctx, func(ctx context.Context) {
		err := l.m.lead(ctx, g.k, session, &g.lead, seen)
		if ctx.Err() == nil {
			select {
			case l.leaderEnd <- leaderMsg{g, err}:
			case <-ctx.Done():
			}
		}
	}, func(ctx context.Context) {
		l.m.watchKey(ctx, g.k.data, func(p *api.KVPair, err error) {
			if err != nil {
				return
			}
			var sum *[sha256.Size]byte
			if p != nil {
				s := sha256.Sum256(p.Value)
				sum = &s
			}
			select {
			case seen <- sum:
			case <-ctx.Done():
			}
		})
	})
	l.m.log.Info("dedup: leading", "group", l.m.o.Prefix+g.k.id, "dependencies", len(l.set))
	l.m.update(func(s *Status) {
		*s = Status{Role: RoleLeader, Group: l.m.o.Prefix + g.k.id, Dependencies: len(l.set), Leader: l.m.holder,
			LastError: s.LastError, LastErrorAt: s.LastErrorAt}
	})
}

func (l *loop) startFollower(g *group) {
	g.leader = false
	g.start(l.ctx, func(ctx context.Context) {
		l.m.watchKey(ctx, g.k.lock, func(p *api.KVPair, err error) {
			select {
			case l.lockObs <- lockMsg{g, pairState(p), err}:
			case <-ctx.Done():
			}
		})
	}, func(ctx context.Context) {
		var prev *Data
		l.m.watchKey(ctx, g.k.data, func(p *api.KVPair, err error) {
			msg := dataMsg{g: g, err: err}
			switch {
			case err != nil:
			case p == nil:
				msg.err = errNoData
			default:
				msg.d, msg.err = DecodeData(p.Value, prev)
				if msg.err == nil && msg.d.Identity != g.k.id {
					msg.d, msg.err = nil, fmt.Errorf("%w: data of set %s under the key of set %s", ErrCorrupt, msg.d.Identity, g.k.id)
				}
				if msg.err == nil {
					prev = msg.d
				}
			}
			select {
			case l.dataObs <- msg:
			case <-ctx.Done():
			}
		})
	})
	l.m.update(func(s *Status) {
		*s = Status{Role: RoleFollower, Group: l.m.o.Prefix + g.k.id, Dependencies: len(l.set),
			Fallback: "waiting for the leader's data", LastError: s.LastError, LastErrorAt: s.LastErrorAt}
	})
}

// leave ends the agent's membership of its group. A leader lets go of
// the lock and the data, so that a follower leads at once.
func (l *loop) leave(ctx context.Context) {
	g := l.g
	l.g = nil
	g.stop()
	if !g.leader {
		if judge(g.view, time.Now(), l.m.o.TTL, grace).serve {
			v := g.view
			l.prev = &v
		}
		return
	}
	l.letGo(ctx, g)
	l.m.log.Info("dedup: no longer leading", "group", l.m.o.Prefix+g.k.id)
}

// letGo releases g's lock, with a last beat that marks the data current
// until now, and its data key, keeping its value. A session that cannot
// let go is destroyed, which releases the keys too, or, if that fails as
// well, abandoned: it may still hold the keys, and the group's followers
// will depose it, which must not take the agent's next group down with it.
// Nobody renews it, so Consul expires it.
func (l *loop) letGo(ctx context.Context, g *group) {
	b := l.beat(g.lead.beats+1, g.lead.published)
	b.Released = true
	err := errors.Join(l.m.release(ctx, g.k.lock, l.session, encodeBeat(b)),
		l.m.release(ctx, g.k.data, l.session, g.lead.data))
	if err == nil {
		return
	}
	l.fail(err)
	if derr := l.m.destroySession(ctx, l.session); derr != nil {
		l.m.log.Warn("dedup: could not let go of the group's keys; abandoning the session",
			"group", l.m.o.Prefix+g.k.id, "session", l.session, "err", derr)
	}
	l.session = ""
}

// onLeaderEnd handles a leader that lost its lock or its session: the
// agent joins again at the next tick.
func (l *loop) onLeaderEnd(msg leaderMsg) {
	l.m.log.Warn("dedup: stopped leading", "group", l.m.o.Prefix+msg.g.k.id, "err", msg.err)
	msg.g.stop()
	l.g = nil
	l.retryAt = time.Now()
	switch {
	case errors.Is(msg.err, errSessionGone):
		l.session = ""
	case errors.Is(msg.err, errLost):
		// Another session holds the lock or the data key (an operator
		// deleted the lock and another agent took it): let go of what this
		// one still holds, or each would shut the other out, and back off
		// while leaderships end this way before publishing anything.
		l.letGo(l.ctx, msg.g)
		if msg.g.lead.published > 0 {
			l.lost = 0
		}
		l.lost++
		l.retryAt = time.Now().Add(backoff(l.lost))
	}
}

func (l *loop) sessionLost() {
	l.session = ""
	if l.g != nil {
		l.g.stop()
		l.g = nil
	}
	l.retryAt = time.Now()
}
