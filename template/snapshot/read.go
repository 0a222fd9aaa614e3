package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/drcon/drcon/template/dep"
)

// Store is a snapshot's data. View gives each template job its own Source
// over it.
type Store struct {
	data map[dep.Dependency]any
	held *sync.Mutex // the Views' Hold: their answers are shared
}

// Read reads a snapshot written by Write (or by hand).
func Read(r io.Reader) (*Store, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	switch {
	case f.Format != formatName:
		return nil, fmt.Errorf("read snapshot: format %q, want %q", f.Format, formatName)
	case f.Version < 1 || f.Version > Version:
		return nil, fmt.Errorf("read snapshot: format version %d; this drcon reads versions 1 to %d", f.Version, Version)
	}
	s := &Store{data: make(map[dep.Dependency]any, len(f.Entries)), held: &sync.Mutex{}}
	for i, e := range f.Entries {
		d := e.Dependency.Dependency()
		if err := s.add(d, e); err != nil {
			return nil, fmt.Errorf("read snapshot: entry %d (%s): %w", i+1, d, err)
		}
	}
	// Snapshots taken before key had a dependency of its own (kv.block)
	// answer it from the same key's kv.get: the query is the same. (The
	// entries added while ranging are not kv.get ones.)
	for d, v := range s.data {
		if d.Kind != dep.KindKV {
			continue
		}
		b := d
		b.Kind = dep.KindKVBlock
		if _, ok := s.data[b]; !ok {
			s.data[b] = v
		}
	}
	return s, nil
}

func (s *Store) add(d dep.Dependency, e entry) error {
	if e.ID != "" && e.ID != d.String() {
		return fmt.Errorf("id %q does not match the dependency's fields", e.ID)
	}
	if _, dup := s.data[d]; dup {
		return errors.New("dependency listed twice")
	}
	if e.Answer == nil {
		return errors.New("no answer")
	}
	v, err := dep.DecodeValue(d.Kind, e.Answer)
	if err != nil {
		return err
	}
	s.data[d] = v
	return nil
}

// Answer returns the snapshot's answer to d, and false if it has none.
func (s *Store) Answer(d dep.Dependency) (any, bool) {
	v, ok := s.data[d]
	return v, ok
}

// View is one template job's Source over the snapshot. Its answers arrive
// as Consul's do: after the pass that asked for them, all of that pass's
// together, signalled on Changed. So a render from a snapshot goes through
// the passes that a live one does, and fails where a live one fails: a first
// pass that indexes an answer it does not have yet, a template that fails
// with each answer that can come first alone. A snapshot never changes after
// that.
// A dependency the snapshot has no answer for, or whose answer the template
// still misses once it has arrived (a key that does not exist), fails
// (Failure) instead of being waited for, once no answer is due that could
// make the template let go of it. Its methods are safe for concurrent use.
type View struct {
	data    map[dep.Dependency]any
	held    *sync.Mutex
	changed chan struct{} // buffer 1: holds the signal of answers due

	mu      sync.Mutex
	wanted  map[dep.Dependency]bool
	due     []dep.Dependency // wanted, answered, not yet arrived
	arrived map[dep.Dependency]bool
}

// View returns a new view of s, with nothing wanted yet.
func (s *Store) View() *View {
	return &View{data: s.data, held: s.held, changed: make(chan struct{}, 1), wanted: map[dep.Dependency]bool{},
		arrived: map[dep.Dependency]bool{}}
}

// Want replaces the set of dependencies the job wants. The answers to the
// new ones are due: they arrive when the job has received the signal. One
// it no longer wants is forgotten, as Consul's watcher of it stops: wanted
// again, its answer arrives after a pass again.
func (v *View) Want(ds []dep.Dependency) {
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.wanted)
	for _, d := range ds {
		v.wanted[d] = true
	}
	maps.DeleteFunc(v.arrived, func(d dep.Dependency, _ bool) bool { return !v.wanted[d] })
	v.due = slices.DeleteFunc(v.due, func(d dep.Dependency) bool { return !v.wanted[d] })
	for _, d := range ds {
		if _, ok := v.data[d]; ok && !v.arrived[d] && !slices.Contains(v.due, d) {
			v.due = append(v.due, d)
		}
	}
	if len(v.due) > 0 {
		select {
		case v.changed <- struct{}{}:
		default: // already signalled
		}
	}
}

// Hold keeps the snapshot's answers, which every View shares, to one
// execution at a time until release is called.
func (v *View) Hold() (release func()) {
	v.held.Lock()
	return v.held.Unlock
}

// Changed is signalled once the answers due may be read.
func (v *View) Changed() <-chan struct{} { return v.changed }

// Recall returns the answer to d once it has arrived. Answers due arrive
// when the signal has been taken from Changed, so that the passes before
// the job waits for it see them missing, as they would be from Consul.
func (v *View) Recall(d dep.Dependency) (any, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.due) > 0 && len(v.changed) == 0 {
		for _, d := range v.due {
			v.arrived[d] = true
		}
		v.due = v.due[:0]
	}
	if !v.arrived[d] {
		return nil, false
	}
	return v.data[d], true
}

// Failure says why d, a wanted dependency the template misses (the only
// ones jobs/render asks about), will never get data: the snapshot has no
// answer to it, or its answer has arrived and is not enough (a key that
// does not exist, an empty list safeLs waits on), and a snapshot never
// changes. nil while answers are due: the passes that read them may let go
// of d, as the live render did, which saved no answer to d if it never got
// one.
func (v *View) Failure(d dep.Dependency) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.wanted[d] || len(v.due) > 0 {
		return nil
	}
	if _, ok := v.data[d]; !ok {
		return errors.New("the snapshot has no answer to it (take a new one with drcon snapshot)")
	}
	if v.arrived[d] {
		return errors.New("the snapshot's answer to it gives the template no data, and a snapshot never changes")
	}
	return nil
}
