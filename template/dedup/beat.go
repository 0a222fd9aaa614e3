package dedup

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// Beat is the value of a group's lock key: who holds it and how its
// publications go. The leader rewrites it every ttl/3; a follower that sees
// the key change knows the leader is alive. Only the key's session says who
// holds the lock; a beat that cannot be read (another drcon release) still
// counts as a sign of life.
type Beat struct {
	Holder  string
	Drcon   string
	Session string
	// Seq numbers the beats of a session.
	Seq uint64
	// At is the leader's clock when it wrote the beat; a follower that has
	// just joined uses it to judge the data before it has seen a beat itself.
	At time.Time
	// Published is the Seq of the leader's latest publication.
	Published uint64
	// Error is why the leader's latest publication failed; while set,
	// followers do not trust the data.
	Error string
	// Released is set on the beat written when the leader lets go of the
	// lock (it stops or its set changed): the data was current until then.
	Released bool
	// TTL is the leader's session TTL, which sets the pace of its beats;
	// zero from a drcon that did not write it.
	TTL time.Duration
}

type wireBeat struct {
	Format    string    `json:"format"`
	Version   int       `json:"version"`
	Holder    string    `json:"holder,omitempty"`
	Drcon     string    `json:"drcon,omitempty"`
	Session   string    `json:"session"`
	Seq       uint64    `json:"seq"`
	At        time.Time `json:"at"`
	Published uint64    `json:"published"`
	Error     string    `json:"error,omitempty"`
	Released  bool      `json:"released,omitempty"`
	TTL       string    `json:"ttl,omitempty"`
}

func encodeBeat(b Beat) []byte {
	w := wireBeat{Format: lockFormat, Version: FormatVersion, Holder: b.Holder, Drcon: b.Drcon,
		Session: b.Session, Seq: b.Seq, At: b.At.UTC(), Published: b.Published, Error: b.Error, Released: b.Released}
	if b.TTL > 0 {
		w.TTL = b.TTL.String()
	}
	out, _ := dep.Marshal(w)
	return out
}

// decodeBeat reads a lock value; it fails on values that are not a beat of
// a version this drcon knows.
func decodeBeat(raw []byte) (Beat, error) {
	var w wireBeat
	if err := json.Unmarshal(raw, &w); err != nil {
		return Beat{}, fmt.Errorf("read lock value: %w", err)
	}
	if w.Format != lockFormat || w.Version < 1 || w.Version > FormatVersion {
		return Beat{}, fmt.Errorf("read lock value: format %q version %d", w.Format, w.Version)
	}
	var ttl time.Duration
	if w.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(w.TTL); err != nil {
			return Beat{}, fmt.Errorf("read lock value: ttl: %w", err)
		}
	}
	return Beat{Holder: w.Holder, Drcon: w.Drcon, Session: w.Session, Seq: w.Seq, At: w.At,
		Published: w.Published, Error: w.Error, Released: w.Released, TTL: ttl}, nil
}
