package dedup

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

const (
	// janitorEvery is how often a leader looks for the keys of sets no
	// agent needs any more (a configuration changed, a fleet was retired).
	janitorEvery = time.Hour
	// retiredAfter is how long a group's lock must have been free, by its
	// last beat, before its keys are deleted: far beyond any hand-over,
	// and any clock skew between hosts.
	retiredAfter = time.Hour
)

// sweep deletes the keys of groups under the prefix whose lock has been
// free for retiredAfter, so that KV does not fill with the data of sets no
// agent needs. It touches only keys of dedup's layout, and deletes with
// check-and-set, so that a group an agent joins meanwhile keeps its keys.
func (m *Member) sweep(ctx context.Context, self string) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	names, _, err := m.c.KV().Keys(m.o.Prefix, "", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("list %s: %w", m.o.Prefix, err)
	}
	groups := map[string]bool{}
	for _, n := range names {
		id, file, ok := strings.Cut(strings.TrimPrefix(n, m.o.Prefix), "/")
		if ok && id != self && isIdentity(id) && (file == "lock" || file == "data") {
			groups[id] = true
		}
	}
	for id := range groups {
		if err := m.sweepGroup(ctx, groupKeys(m.o.Prefix, id)); err != nil {
			return err
		}
	}
	return nil
}

func (m *Member) sweepGroup(ctx context.Context, k keys) error {
	lock, _, err := m.c.KV().Get(k.lock, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("read %s: %w", k.lock, err)
	}
	if lock != nil {
		b, err := decodeBeat(lock.Value)
		if lock.Session != "" || err != nil || time.Since(b.At) < retiredAfter {
			return nil // held, another drcon's, or recently let go
		}
	}
	data, _, err := m.c.KV().Get(k.data, (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return fmt.Errorf("read %s: %w", k.data, err)
	}
	if data != nil && data.Session != "" {
		return nil
	}
	for _, p := range []*api.KVPair{data, lock} {
		if p == nil {
			continue
		}
		ok, _, err := m.c.KV().DeleteCAS(p, (&api.WriteOptions{}).WithContext(ctx))
		if err != nil {
			return fmt.Errorf("delete %s: %w", p.Key, err)
		}
		if !ok {
			return nil // changed meanwhile: someone uses the group
		}
	}
	m.log.Info("dedup: deleted the keys of a set no agent leads", "group", m.o.Prefix+k.id)
	return nil
}

// isIdentity reports whether s has the shape of an Identity.
func isIdentity(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
