package dedup

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// errNoData is the reason of a follower whose group has no data key yet.
var errNoData = errors.New("no data published yet")

// lockState is one observation of a group's lock key.
type lockState struct {
	present bool
	session string // the holder; "" when the lock is free
	index   uint64 // ModifyIndex: changes with every beat
	value   []byte
}

// view is what a follower has observed of its group: pure state, updated
// by onLock and onData with the time of each observation, and judged by
// judge. Two clocks are kept apart: holderHeard, on this host's clock only,
// decides whether to depose a silent leader; heard, which may be estimated
// from a leader's timestamp when a follower has just joined, decides only
// whether to trust the data, so a skewed clock can at worst make a follower
// query Consul itself until it sees the next beat.
type view struct {
	data    *Data
	dataErr error // why there is no data (errNoData, ErrCorrupt, ErrNewerFormat...)

	holder      string
	holderHeard time.Time
	lockIndex   uint64
	lockValue   []byte
	lockSeen    bool
	dataSeen    bool

	beat        *Beat                // the latest readable beat
	heard       map[string]time.Time // last sign of life per session
	behindSince time.Time            // the writer's beat names a newer publication since then
}

func (v *view) onLock(s lockState, now time.Time) {
	first := !v.lockSeen
	changed := first || s.index != v.lockIndex
	// Only a value written anew is a sign of life: Consul frees the lock of
	// a session that ends (deposed, expired) leaving its last beat in place.
	rewritten := first || !bytes.Equal(s.value, v.lockValue)
	v.lockSeen, v.lockIndex, v.lockValue = true, s.index, s.value
	holder := ""
	if s.present {
		holder = s.session
	}
	if holder != "" && (holder != v.holder || changed) {
		v.holderHeard = now
	}
	v.holder = holder
	if b, err := decodeBeat(s.value); err == nil && s.present && rewritten {
		v.beat = &b
		at := now
		if first {
			// What was written before we looked may be old: judge it by
			// the writer's clock, never newer than ours.
			at = now.Add(-max(now.Sub(b.At), 0))
		}
		v.hear(b.Session, at)
	}
	v.settle(now)
}

func (v *view) onData(d *Data, err error, now time.Time) {
	first := !v.dataSeen
	v.dataSeen = true
	if err != nil {
		v.data, v.dataErr = nil, err
		v.settle(now)
		return
	}
	if !first && (v.data == nil || d.Session != v.data.Session || d.Seq != v.data.Seq) {
		v.hear(d.Session, now)
	}
	v.data, v.dataErr = d, nil
	v.settle(now)
}

func (v *view) hear(session string, at time.Time) {
	if v.heard == nil {
		v.heard = map[string]time.Time{}
	}
	if at.After(v.heard[session]) {
		v.heard[session] = at
	}
}

// settle forgets sessions that are neither the holder nor the writer, and
// tracks whether the data lags behind the writer's latest publication.
func (v *view) settle(now time.Time) {
	for s := range v.heard {
		if s != v.holder && (v.data == nil || s != v.data.Session) {
			delete(v.heard, s)
		}
	}
	behind := v.data != nil && v.beat != nil && v.beat.Session == v.data.Session && v.beat.Published > v.data.Seq
	switch {
	case !behind:
		v.behindSince = time.Time{}
	case v.behindSince.IsZero():
		v.behindSince = now
	}
}

// ttl is the ttl by which the holder and the data's writer are judged:
// own, or the leader's from its beat when longer, so that a follower whose
// ttl is shorter (a fleet midway through a change of ttl) does not depose a
// live leader that beats at its own slower pace.
func (v view) ttl(own time.Duration) time.Duration {
	b := v.beat
	if b != nil && b.TTL > own && (b.Session == v.holder || v.data != nil && b.Session == v.data.Session) {
		return b.TTL
	}
	return own
}

// verdict is what a follower does with its group's data now.
type verdict struct {
	serve  bool
	reason string // why not, for status
	// takeover is set when the holder has been silent for ttl: the
	// follower should confirm and depose it.
	takeover bool
}

// judge decides whether the data may answer queries. The data is trusted
// while its writer was heard from within ttl + grace: a leader beats every
// ttl/3, so ttl tolerates two lost beats, and grace covers a hand-over, when
// the new leader needs a moment to publish its first data.
func judge(v view, now time.Time, ttl, grace time.Duration) verdict {
	ttl = v.ttl(ttl)
	var out verdict
	out.takeover = v.holder != "" && now.Sub(v.holderHeard) > ttl
	switch {
	case v.data == nil && v.dataErr == nil:
		out.reason = "waiting for the data"
	case v.data == nil && errors.Is(v.dataErr, errNoData):
		out.reason = "the leader has published no data yet"
	case v.data == nil:
		out.reason = v.dataErr.Error()
	default:
		heard, ok := v.heard[v.data.Session]
		writer := v.data.Holder
		switch {
		case !ok:
			out.reason = fmt.Sprintf("waiting for a sign of life from %s, who wrote the data", writer)
		case now.Sub(heard) > ttl+grace:
			out.reason = fmt.Sprintf("%s, who wrote the data, silent for %s", writer, now.Sub(heard).Round(time.Second))
		case v.beat != nil && v.beat.Session == v.data.Session && v.beat.Error != "":
			out.reason = fmt.Sprintf("%s cannot publish: %s", writer, v.beat.Error)
		case !v.behindSince.IsZero() && now.Sub(v.behindSince) > grace:
			out.reason = fmt.Sprintf("the data is behind %s's publication %d", writer, v.beat.Published)
		default:
			out.serve = true
		}
	}
	return out
}

// due is the next moment after now at which judge could decide otherwise
// with nothing new observed: the holder's silence reaching ttl, the
// writer's reaching ttl + grace, the data lagging for grace. Zero when
// none is ahead.
func (v view) due(now time.Time, ttl, grace time.Duration) time.Time {
	ttl = v.ttl(ttl)
	var out time.Time
	earliest := func(t time.Time) {
		if t.After(now) && (out.IsZero() || t.Before(out)) {
			out = t
		}
	}
	if v.holder != "" {
		earliest(v.holderHeard.Add(ttl + time.Millisecond))
	}
	if v.data != nil {
		if heard, ok := v.heard[v.data.Session]; ok {
			earliest(heard.Add(ttl + grace + time.Millisecond))
		}
	}
	if !v.behindSince.IsZero() {
		earliest(v.behindSince.Add(grace + time.Millisecond))
	}
	return out
}
