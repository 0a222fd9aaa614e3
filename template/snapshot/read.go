package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/drcon/drcon/template/dep"
)

// Store is a snapshot's data, used as a template job's Source: it answers
// from the file, never changes, and records what is wanted so that a job can
// report what the snapshot lacks. Its methods are safe for concurrent use.
type Store struct {
	data    map[dep.Dependency]any
	changed chan struct{} // never signalled: a snapshot does not change

	mu     sync.Mutex
	wanted []dep.Dependency
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
	s := &Store{data: make(map[dep.Dependency]any, len(f.Entries)), changed: make(chan struct{})}
	for i, e := range f.Entries {
		d := e.Dependency.Dependency()
		if err := s.add(d, e); err != nil {
			return nil, fmt.Errorf("read snapshot: entry %d (%s): %w", i+1, d, err)
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

// Want records the dependencies a job wants, replacing the previous set.
func (s *Store) Want(ds []dep.Dependency) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.wanted = slices.Clone(ds)
}

// Changed never fires.
func (s *Store) Changed() <-chan struct{} { return s.changed }

// Recall returns the snapshot's answer to d, and false if it has none.
func (s *Store) Recall(d dep.Dependency) (any, bool) {
	v, ok := s.data[d]
	return v, ok
}

// Failure is always nil: a snapshot's missing answers are reported by Check
// before anything renders.
func (s *Store) Failure(dep.Dependency) error { return nil }

// Missing lists the wanted dependencies that the snapshot has no answer
// for, sorted and without duplicates.
func (s *Store) Missing() []dep.Dependency {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []dep.Dependency
	for _, d := range s.wanted {
		if _, ok := s.data[d]; !ok && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return dep.Sort(out)
}

// Check returns an error naming every wanted dependency the snapshot has no
// answer for, or nil.
func (s *Store) Check() error {
	missing := s.Missing()
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, d := range missing {
		names[i] = d.String()
	}
	return fmt.Errorf("snapshot has no data for %s", strings.Join(names, ", "))
}

// View is another Store over the same data with its own record of what is
// wanted, so that each template job of a process can have its own.
func (s *Store) View() *Store {
	return &Store{data: s.data, changed: s.changed}
}
