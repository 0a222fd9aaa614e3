package template

import (
	"fmt"
	"slices"
	"sync"
)

// Scratch is a template's scratchpad, returned by the scratch function: a
// map that lives for one execution, as in consul-template.
//
// Its fields are consul-template's, because a template can see them: printing
// the scratch ("%v", toYAML) shows them, and the embedded lock's methods
// (scratch.TryLock) are callable. An execution runs on one goroutine, so
// the methods here do not lock; a template that takes the lock itself and
// then sets a value does not hang as it would in consul-template.
type Scratch struct {
	//lint:ignore U1000 consul-template's layout, which printing the scratch shows
	once sync.Once
	sync.RWMutex
	values map[string]any
}

// Key reports whether k is set.
func (s *Scratch) Key(k string) bool {
	_, ok := s.values[k]
	return ok
}

// Get returns the value at k, or nil.
func (s *Scratch) Get(k string) any { return s.values[k] }

// Set stores v at k, replacing any value.
func (s *Scratch) Set(k string, v any) string {
	s.init()
	s.values[k] = v
	return ""
}

// SetX stores v at k unless k is set.
func (s *Scratch) SetX(k string, v any) string {
	s.init()
	if _, ok := s.values[k]; !ok {
		s.values[k] = v
	}
	return ""
}

// MapSet stores v under mk in the map at k, creating the map.
func (s *Scratch) MapSet(k, mk string, v any) (string, error) { return s.mapSet(k, mk, v, true) }

// MapSetX is MapSet that does not replace an existing mk.
func (s *Scratch) MapSetX(k, mk string, v any) (string, error) { return s.mapSet(k, mk, v, false) }

func (s *Scratch) mapSet(k, mk string, v any, replace bool) (string, error) {
	s.init()
	if _, ok := s.values[k]; !ok {
		s.values[k] = map[string]any{}
	}
	m, ok := s.values[k].(map[string]any)
	if !ok {
		return "", fmt.Errorf("%q is not a map", k)
	}
	if _, set := m[mk]; replace || !set {
		m[mk] = v
	}
	return "", nil
}

// MapValues returns the values of the map at k sorted by their keys, or nil
// when k is not a map.
func (s *Scratch) MapValues(k string) ([]any, error) {
	s.init() // as consul-template: %#v shows an empty map after it, not nil
	m, ok := s.values[k].(map[string]any)
	if !ok {
		return nil, nil
	}
	keys := make([]string, 0, len(m))
	for mk := range m {
		keys = append(keys, mk)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, mk := range keys {
		out[i] = m[mk]
	}
	return out, nil
}

func (s *Scratch) init() {
	if s.values == nil {
		s.values = map[string]any{}
	}
}
