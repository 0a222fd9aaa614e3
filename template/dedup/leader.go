package dedup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"time"
)

// leadState is what a leader goroutine leaves behind for the loop.
type leadState struct {
	beats     uint64 // the last beat written
	published uint64 // the last publication written
	// data is the value of the last publication: letting go of the data
	// key writes it again, since a release writes a value.
	data []byte
}

// lead publishes the set's answers and beats until ctx ends, or until it
// loses the lock or its session (the error says which). seen carries the
// digest of every value its data key takes (nil when deleted): a value it
// did not write (an operator's edit, a deletion) is replaced at once.
func (m *Member) lead(ctx context.Context, k keys, session string, st *leadState, seen <-chan *[sha256.Size]byte) error {
	p := publisher{m: m, k: k, session: session, st: st, started: time.Now()}
	beat := time.NewTimer(m.o.TTL / 3)
	defer beat.Stop()
	pub := time.NewTimer(debounce)
	defer pub.Stop()
	// The first sweep waits until the group has settled.
	sweep := time.NewTimer(m.o.TTL)
	defer sweep.Stop()
	pending := true
	first := true
	beatErr := "" // why the latest beat failed
	for {
		select {
		case <-ctx.Done():
			return nil
		case sum := <-seen:
			// The first value is what the key held when this agent took
			// the lock, or its own first publication.
			if first || (sum != nil && slices.Contains(p.written[:], *sum)) {
				first = false
				continue
			}
			m.log.Warn("dedup: the data key was changed by someone else; publishing again", "key", k.data)
			p.sum = [sha256.Size]byte{}
			if !pending {
				pub.Reset(0)
				pending = true
			}
		case <-m.rec.changed:
			if !pending {
				pub.Reset(max(debounce, minGap-time.Since(p.last)))
				pending = true
			}
		case <-pub.C:
			pending = false
			retry, err := p.publish(ctx)
			if errors.Is(err, errLost) || errors.Is(err, errSessionGone) {
				return err
			}
			if retry > 0 {
				pub.Reset(retry)
				pending = true
			}
		case <-sweep.C:
			if err := m.sweep(ctx, k.id); err != nil && ctx.Err() == nil {
				m.log.Warn("dedup: " + err.Error())
			}
			sweep.Reset(janitorEvery)
		case <-beat.C:
			st.beats++
			b := Beat{Holder: m.holder, Drcon: m.o.Version, Session: session, Seq: st.beats, At: time.Now(),
				Published: st.published, Error: p.err, TTL: m.o.TTL}
			ok, err := m.acquire(ctx, k.lock, session, encodeBeat(b))
			switch {
			case errors.Is(err, errSessionGone):
				return err
			case ctx.Err() != nil:
				// Leading ended while the beat was on its way: the
				// session expired, or the agent stops or reloads.
				return nil
			case err != nil:
				// Warned once per reason: a beat fails every ttl/3 while
				// Consul refuses writes, and the status keeps the error.
				if err.Error() == beatErr {
					m.log.Debug("dedup: beat: " + err.Error())
				} else {
					m.log.Warn("dedup: beat: " + err.Error())
				}
				beatErr = err.Error()
				m.update(func(s *Status) { s.LastError, s.LastErrorAt = err.Error(), time.Now() })
			case !ok:
				return errLost
			default:
				beatErr = ""
			}
			beat.Reset(m.o.TTL / 3)
		}
	}
}

// publisher writes a leader's publications.
type publisher struct {
	m       *Member
	k       keys
	session string
	st      *leadState
	started time.Time

	last time.Time // of the latest write
	sum  [sha256.Size]byte
	// written holds the digests of the latest values written, to tell
	// them from someone else's.
	written  [4][sha256.Size]byte
	err      string // why the latest publication failed
	failures int
	// dropped lists the answers the latest publication left out for their
	// size, so that the same ones are not warned about at every change.
	dropped []string
}

// publish writes the recorded answers of the set if they changed since
// the last publication. It returns when to try again, if it should.
func (p *publisher) publish(ctx context.Context) (retry time.Duration, err error) {
	m := p.m
	set := m.set.Load()
	if set == nil {
		return 0, nil
	}
	w := wireData{Identity: p.k.id, Session: p.session,
		Holder: m.holder, Drcon: m.o.Version}
	answered := 0
	for d, a := range m.rec.copy() {
		failing, in := set.deps[a.key]
		switch {
		case !in:
			continue
		case failing:
			w.Omitted = append(w.Omitted, a.key)
		case a.raw == nil:
			w.Omitted = append(w.Omitted, a.key+": "+a.err)
		default:
			w.Entries = append(w.Entries, wireEntry{ID: a.key, Dependency: d.Wire(), Index: a.index, Answer: a.raw})
		}
		answered++
	}
	// A new leader's first publication waits, within reason, for every
	// answer: followers query Consul for what it lacks.
	if p.st.published == 0 && answered < len(set.deps) {
		if wait := grace - time.Since(p.started); wait > 0 {
			return min(wait, minGap), nil
		}
	}
	slices.Sort(w.Omitted)
	slices.SortFunc(w.Entries, func(a, b wireEntry) int { return strings.Compare(a.ID, b.ID) })
	sum := digest(w)
	if p.st.published > 0 && sum == p.sum {
		// The data key holds these answers already: a failed write of
		// answers that have changed back since is no failure any more,
		// which the next beat must tell the followers.
		p.failures, p.err = 0, ""
		return 0, nil
	}
	w.Seq, w.PublishedAt = p.st.published+1, time.Now().UTC()
	out, dropped, err := encodeData(w, maxSize)
	if err == nil {
		var ok bool
		ok, err = m.acquire(ctx, p.k.data, p.session, out)
		if err == nil && !ok {
			return 0, errLost
		}
	}
	if err != nil {
		if errors.Is(err, errSessionGone) || ctx.Err() != nil {
			return 0, err
		}
		p.failures++
		if err.Error() == p.err {
			m.log.Debug("dedup: publish: " + err.Error()) // warned already, and in the status
		} else {
			m.log.Warn("dedup: publish: " + err.Error())
		}
		p.err = err.Error()
		m.update(func(s *Status) { s.LastError, s.LastErrorAt = err.Error(), time.Now() })
		return backoff(p.failures), err
	}
	p.failures, p.err, p.sum, p.last = 0, "", sum, time.Now()
	copy(p.written[1:], p.written[:len(p.written)-1])
	p.written[0] = sha256.Sum256(out)
	p.st.published, p.st.data = w.Seq, out
	omitted := slices.Concat(w.Omitted, dropped)
	if len(dropped) > 0 && !slices.Equal(dropped, p.dropped) {
		m.log.Warn("dedup: answers too large to publish; followers query them directly", "dependencies", dropped)
	}
	p.dropped = dropped
	m.log.Debug("dedup: published", "key", p.k.data, "seq", w.Seq, "answers", len(w.Entries), "bytes", len(out))
	m.update(func(s *Status) {
		s.Published, s.LastPublish, s.PublishedBytes, s.Omitted = w.Seq, p.last, len(out), omitted
	})
	return 0, nil
}

// digest identifies the content of a publication: its entries and what it
// omits, not its sequence or time.
func digest(w wireData) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, e := range w.Entries {
		h.Write([]byte(e.ID))
		binary.BigEndian.PutUint64(n[:], e.Index)
		h.Write(n[:])
		binary.BigEndian.PutUint64(n[:], uint64(len(e.Answer)))
		h.Write(n[:])
		h.Write(e.Answer)
	}
	for _, o := range w.Omitted {
		h.Write([]byte{0})
		h.Write([]byte(o))
	}
	return [sha256.Size]byte(h.Sum(nil))
}
