package dedup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// errSessionGone is returned when Consul no longer knows the member's
// session (it expired, was destroyed, or Consul lost its state).
var errSessionGone = errors.New("session gone")

// createSession opens the member's session: released (not deleted) keys
// on invalidation, so that the data outlives its writer for the next
// leader to replace, and a lock delay of 1ms, Consul's smallest, because
// followers already refuse data from a deposed leader's session.
func (m *Member) createSession(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	id, _, err := m.c.Session().Create(&api.SessionEntry{
		Name:      "drcon dedup " + m.holder,
		TTL:       m.o.TTL.String(),
		Behavior:  api.SessionBehaviorRelease,
		LockDelay: time.Millisecond,
	}, (&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("create dedup session: %w", err)
	}
	return id, nil
}

// renewSession renews id; errSessionGone when Consul no longer has it.
func (m *Member) renewSession(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	e, _, err := m.c.Session().Renew(id, (&api.WriteOptions{}).WithContext(ctx))
	switch {
	case err != nil:
		return fmt.Errorf("renew dedup session: %w", err)
	case e == nil: // Consul answered 404
		return errSessionGone
	}
	return nil
}

func (m *Member) destroySession(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if _, err := m.c.Session().Destroy(id, (&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("destroy dedup session %s: %w", id, err)
	}
	return nil
}

// acquire writes value to key if session holds it or nobody does, and
// reports whether it did. A session Consul does not know is errSessionGone.
func (m *Member) acquire(ctx context.Context, key, session string, value []byte) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	ok, _, err := m.c.KV().Acquire(&api.KVPair{Key: key, Value: value, Session: session},
		(&api.WriteOptions{}).WithContext(ctx))
	if err != nil {
		if strings.Contains(err.Error(), "invalid session") {
			return false, errSessionGone
		}
		return false, fmt.Errorf("write %s: %w", key, err)
	}
	return ok, nil
}

// release lets go of key, writing value with it.
func (m *Member) release(ctx context.Context, key, session string, value []byte) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if _, _, err := m.c.KV().Release(&api.KVPair{Key: key, Value: value, Session: session},
		(&api.WriteOptions{}).WithContext(ctx)); err != nil {
		return fmt.Errorf("release %s: %w", key, err)
	}
	return nil
}

// readConsistent reads key from Consul's leader.
func (m *Member) readConsistent(ctx context.Context, key string) (lockState, error) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	p, _, err := m.c.KV().Get(key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx))
	if err != nil {
		return lockState{}, fmt.Errorf("read %s: %w", key, err)
	}
	return pairState(p), nil
}

func pairState(p *api.KVPair) lockState {
	if p == nil {
		return lockState{}
	}
	return lockState{present: true, session: p.Session, index: p.ModifyIndex, value: p.Value}
}

// watchKey follows key with blocking queries until ctx ends, calling seen
// with every new state of the key (nil when absent) and with every
// failure. Answers from a server that lost touch with the leader for more
// than MaxStale are asked again of the leader; an index that goes
// backwards (Consul restarted) asks afresh; failures back off.
func (m *Member) watchKey(ctx context.Context, key string, seen func(p *api.KVPair, err error)) {
	var index uint64
	consistent := false
	failures := 0
	deadline := m.o.BlockQueryWait + m.o.BlockQueryWait/16 + 30*time.Second
	for ctx.Err() == nil {
		q := &api.QueryOptions{WaitIndex: index, AllowStale: m.o.MaxStale > 0 && !consistent}
		if index > 0 {
			q.WaitTime = m.o.BlockQueryWait
		}
		qctx, cancel := context.WithTimeout(ctx, deadline)
		p, meta, err := m.c.KV().Get(key, q.WithContext(qctx))
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			failures++
			index, consistent = 0, false
			seen(nil, fmt.Errorf("watch %s: %w", key, err))
			if !sleep(ctx, backoff(failures)) {
				return
			}
			continue
		}
		failures = 0
		if q.AllowStale && meta.LastContact > m.o.MaxStale {
			consistent = true
			continue
		}
		consistent = false
		next := max(meta.LastIndex, 1)
		switch {
		case next == index:
			continue
		case next < index:
			index = 0
			continue
		}
		index = next
		seen(p, nil)
	}
}

// backoff is the wait after the n-th consecutive failure: 250ms doubling
// to 10s, short enough that a follower notices a healed Consul well
// within a ttl.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond
	for i := 1; i < n && d < 10*time.Second; i++ {
		d *= 2
	}
	return min(d, 10*time.Second)
}

// sleep waits d, and reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
