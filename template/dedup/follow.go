package dedup

import (
	"cmp"
	"errors"
	"time"
)

func (l *loop) onLock(msg lockMsg) {
	g := l.g
	if msg.err != nil {
		g.lockErr = msg.err.Error()
		l.fail(msg.err)
		l.judge(time.Now())
		return
	}
	g.lockErr = ""
	l.fails = 0
	now := time.Now()
	g.view.onLock(msg.s, now)
	if g.view.holder != "" {
		g.refused = 0
	}
	if g.view.holder == "" && (l.tryAcquire(g) || l.g != g) {
		return // leading now, or the session was lost
	}
	l.judge(now)
}

func (l *loop) onData(msg dataMsg) {
	g := l.g
	if msg.err != nil && !errors.Is(msg.err, errNoData) && !errors.Is(msg.err, ErrCorrupt) && !errors.Is(msg.err, ErrNewerFormat) {
		g.dataErr = msg.err.Error()
		l.fail(msg.err) // the watch failed; the data it had is kept
		l.judge(time.Now())
		return
	}
	g.dataErr = ""
	now := time.Now()
	if msg.d != nil {
		l.m.log.Debug("dedup: data", "seq", msg.d.Seq, "published", msg.d.PublishedAt)
	}
	g.view.onData(msg.d, msg.err, now)
	l.judge(now)
}

// judge decides what a follower answers from now, and deposes a leader
// that has been silent for ttl.
func (l *loop) judge(now time.Time) {
	g := l.g
	ttl := l.m.o.TTL
	v := judge(g.view, now, ttl, grace)
	var serve *Data
	why := v.reason
	switch {
	case v.serve:
		serve, l.prev = g.view.data, nil
	case l.prev != nil && judge(*l.prev, now, ttl, grace).serve:
		serve = l.prev.data
	default:
		l.prev = nil
	}
	l.m.srv.serve(serve)
	switch {
	case serve != nil:
	case g.lockErr != "" || g.dataErr != "":
		why = "cannot read the group's keys: " + cmp.Or(g.lockErr, g.dataErr)
	case g.view.lockSeen && g.view.holder == "" && g.takeErr != "":
		why = "no leader, and this agent cannot take the lock: " + g.takeErr
	}
	if serve != nil {
		why = ""
	}
	if why != l.lastWhy || (serve != nil) != l.trusting {
		switch {
		case serve != nil:
			l.m.log.Info("dedup: answering from the leader's data", "group", l.m.o.Prefix+g.k.id, "leader", serve.Holder)
		case l.trusting:
			// Distrusting data that was trusted is news; not having any
			// yet, on joining, is not.
			l.m.log.Warn("dedup: querying Consul directly", "group", l.m.o.Prefix+g.k.id, "reason", why)
		default:
			l.m.log.Debug("dedup: querying Consul directly", "group", l.m.o.Prefix+g.k.id, "reason", why)
		}
		l.lastWhy, l.trusting = why, serve != nil
	}
	leader := ""
	if b := g.view.beat; b != nil && b.Session == g.view.holder {
		leader = b.Holder
	}
	shared := l.m.srv.shared()
	l.m.update(func(s *Status) {
		s.Fallback, s.Leader, s.Shared = why, leader, shared
		s.DataPublished = time.Time{}
		if serve != nil {
			s.DataPublished = serve.PublishedAt
		}
	})
	if v.takeover && now.Sub(g.tried) >= ttl/3 {
		g.tried = now
		l.takeover(g)
	}
}

// takeover deposes a leader silent for ttl, once a consistent read shows
// that its lock has not changed since the follower last saw it: the
// follower destroys the silent session, which releases the lock, and
// takes it. Consul would release it by itself only after twice the TTL.
func (l *loop) takeover(g *group) {
	s, err := l.m.readConsistent(l.ctx, g.k.lock)
	if err != nil {
		l.fail(err)
		return
	}
	if s.present && s.session != "" && (s.session != g.view.holder || s.index != g.view.lockIndex) {
		g.view.onLock(s, time.Now()) // alive after all: our watch lagged
		return
	}
	if s.present && s.session != "" {
		l.m.log.Warn("dedup: deposing a silent leader", "group", l.m.o.Prefix+g.k.id, "session", s.session,
			"silent", time.Since(g.view.holderHeard).Round(time.Second))
		if err := l.m.destroySession(l.ctx, s.session); err != nil {
			l.fail(err)
			return
		}
	}
	l.tryAcquire(g)
}
