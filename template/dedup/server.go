package dedup

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/drcon/drcon/template/dep"
)

// errServed cancels a direct query whose dependency the shared data now
// answers.
var errServed = errors.New("answered from shared data")

// server is what a follower answers queries from: the publication it trusts
// now, if any. The member's loop replaces it; Fetch reads it, waits on it,
// and registers its direct queries so that they are cancelled (freeing
// their blocking query in Consul) as soon as the data answers them. Its
// methods are safe for concurrent use.
type server struct {
	mu     sync.Mutex
	data   *Data         // nil: answer nothing
	wake   chan struct{} // closed and replaced whenever data changes
	direct map[dep.Dependency]map[*directQuery]struct{}
	last   map[dep.Dependency]last
}

// last is the latest answer given for a dependency.
type last struct {
	fromData bool
	index    uint64
	raw      []byte // its JSON; nil if it could not be encoded
}

type directQuery struct{ cancel context.CancelCauseFunc }

func newServer() *server {
	return &server{wake: make(chan struct{}), direct: map[dep.Dependency]map[*directQuery]struct{}{},
		last: map[dep.Dependency]last{}}
}

// serve makes d the data answered from (nil: none), wakes every waiting
// query, and cancels the direct queries that d now answers.
func (s *server) serve(d *Data) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == d {
		return
	}
	s.data = d
	close(s.wake)
	s.wake = make(chan struct{})
	for dd, qs := range s.direct {
		if _, ok := s.entry(dd); ok {
			for q := range qs {
				q.cancel(errServed)
			}
		}
	}
}

// entry returns the published answer to d if it may answer now: a
// dependency answered directly switches to the data only once the data has
// caught up with it, so that a follower never goes back in time. Called
// with s.mu held.
func (s *server) entry(d dep.Dependency) (Entry, bool) {
	if s.data == nil {
		return Entry{}, false
	}
	e, ok := s.data.Entries[d]
	if !ok {
		return Entry{}, false
	}
	if l, seen := s.last[d]; seen && !l.fromData && e.Index < l.index && !bytes.Equal(e.Raw, l.raw) {
		return Entry{}, false
	}
	return e, true
}

// begin starts one query of d: it returns the entry that answers it, or
// registers a direct query that serve may cancel; and the last answer
// given for d before this one.
func (s *server) begin(d dep.Dependency, cancel context.CancelCauseFunc) (e Entry, ok bool, wake <-chan struct{}, q *directQuery, prev last) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev = s.last[d]
	if e, ok := s.entry(d); ok {
		s.last[d] = last{fromData: true, index: e.Index, raw: e.Raw}
		return e, true, s.wake, nil, prev
	}
	q = &directQuery{cancel: cancel}
	if s.direct[d] == nil {
		s.direct[d] = map[*directQuery]struct{}{}
	}
	s.direct[d][q] = struct{}{}
	return Entry{}, false, nil, q, prev
}

// end unregisters a direct query and, when it answered, records its index
// and JSON.
func (s *server) end(d dep.Dependency, q *directQuery, answered bool, index uint64, raw []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if qs := s.direct[d]; qs != nil {
		delete(qs, q)
		if len(qs) == 0 {
			delete(s.direct, d)
		}
	}
	if answered {
		s.last[d] = last{index: index, raw: raw}
	}
}

// keep forgets what it knows of dependencies for which keep is false.
func (s *server) keep(keep func(d dep.Dependency) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.last {
		if !keep(d) {
			delete(s.last, d)
		}
	}
}

// shared counts the dependencies whose latest answer came from the data
// that is served now.
func (s *server) shared() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for d, l := range s.last {
		if l.fromData && s.data != nil {
			if _, ok := s.data.Entries[d]; ok {
				n++
			}
		}
	}
	return n
}
