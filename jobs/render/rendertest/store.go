// Package rendertest is an in-memory stand-in for the watcher pool, for
// tests of template jobs: a data store whose subscriptions are
// render.Sources that signal only the dependencies they want.
package rendertest

import (
	"maps"
	"slices"
	"sync"

	"github.com/drcon/drcon/template/dep"
)

// Store holds the latest answer of each dependency, like the watcher pool.
type Store struct {
	held    sync.Mutex // Sub.Hold
	mu      sync.Mutex
	data    map[dep.Dependency]any
	failed  map[dep.Dependency]error
	changes map[dep.Dependency]uint64 // counts each dependency's Sets and Fails
	subs    map[*Sub]bool
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{data: map[dep.Dependency]any{}, failed: map[dep.Dependency]error{},
		changes: map[dep.Dependency]uint64{}, subs: map[*Sub]bool{}}
}

// Fail marks d as failed for good with err, as the pool does after its
// retries, and signals the subscriptions that want d.
func (s *Store) Fail(d dep.Dependency, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[d] = err
	s.signal(d)
}

// Set stores v as d's answer and signals the subscriptions that want d.
func (s *Store) Set(d dep.Dependency, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[d] = v
	s.signal(d)
}

// signal counts a change of d and signals the subscriptions that want d;
// s.mu is held.
func (s *Store) signal(d dep.Dependency) {
	s.changes[d]++
	for sub := range s.subs {
		if sub.wants(d) {
			sub.signal()
		}
	}
}

// SetKey stores a KV value, the answer to both key (KVBlock) and
// keyExists or keyOrDefault (KV).
func (s *Store) SetKey(key, value string) {
	v := dep.KVValue{Exists: true, Value: value}
	s.SetTogether(map[dep.Dependency]any{KV(key): v, KVBlock(key): v})
}

// SetTogether stores several answers, then signals: the first answers of
// one pass, arriving together as the pool signals them.
func (s *Store) SetTogether(answers map[dep.Dependency]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d, v := range answers {
		s.data[d] = v
	}
	for d := range answers {
		s.signal(d)
	}
}

// SetService stores the passing instances of a service.
func (s *Store) SetService(name string, instances ...*dep.HealthService) {
	s.Set(Service(name), instances)
}

// Subscribe returns a new subscription: one job's Source.
func (s *Store) Subscribe() *Sub {
	sub := &Sub{store: s, changed: make(chan struct{}, 1), wanted: map[dep.Dependency]bool{}, read: map[dep.Dependency]uint64{}}
	s.mu.Lock()
	s.subs[sub] = true
	s.mu.Unlock()
	return sub
}

// recall returns d's answer and the count of d's changes it is at.
func (s *Store) recall(d dep.Dependency) (any, bool, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[d]
	return v, ok, s.changes[d]
}

// Sub is one job's view of the store.
type Sub struct {
	store   *Store
	changed chan struct{}

	mu     sync.Mutex
	wanted map[dep.Dependency]bool
	read   map[dep.Dependency]uint64 // the store's count of changes at each dependency's last Recall
}

// Want replaces the set of wanted dependencies. A newly wanted one that
// changed since it was last recalled signals at once, as the pool signals
// the data a new dependency already has: its change came while no one
// wanted it, and would otherwise never be read (a job recalls, then wants
// what it used).
func (s *Sub) Want(ds []dep.Dependency) {
	// The store's lock orders this against Set: a change comes either
	// before, and is counted here, or after, and signals the new want.
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	wanted := map[dep.Dependency]bool{}
	changed := false
	for _, d := range ds {
		wanted[d] = true
		changed = changed || (!s.wanted[d] && s.read[d] != s.store.changes[d])
	}
	s.wanted = wanted
	if changed {
		s.signal()
	}
}

// Changed signals, coalesced, a change of a wanted dependency.
func (s *Sub) Changed() <-chan struct{} { return s.changed }

// Recall returns d's latest answer.
func (s *Sub) Recall(d dep.Dependency) (any, bool) {
	v, ok, at := s.store.recall(d)
	s.mu.Lock()
	s.read[d] = at
	s.mu.Unlock()
	return v, ok
}

// Hold keeps the store's answers to one execution at a time.
func (s *Sub) Hold() (release func()) {
	s.store.held.Lock()
	return s.store.held.Unlock
}

// Failure is the error Fail gave d, if d has no data.
func (s *Sub) Failure(d dep.Dependency) error {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	if _, has := s.store.data[d]; has {
		return nil
	}
	return s.store.failed[d]
}

// Wanted is the set last passed to Want, sorted.
func (s *Sub) Wanted() []dep.Dependency {
	s.mu.Lock()
	defer s.mu.Unlock()
	return dep.Sort(slices.Collect(maps.Keys(s.wanted)))
}

func (s *Sub) wants(d dep.Dependency) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wanted[d]
}

func (s *Sub) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// KV is the dependency of {{ keyExists "k" }} and {{ keyOrDefault "k" "" }}.
func KV(key string) dep.Dependency { return dep.Dependency{Kind: dep.KindKV, Name: key} }

// KVBlock is the dependency of {{ key "k" }}.
func KVBlock(key string) dep.Dependency { return dep.Dependency{Kind: dep.KindKVBlock, Name: key} }

// Service is the dependency of {{ service "name" }}.
func Service(name string) dep.Dependency {
	return dep.Dependency{Kind: dep.KindHealthService, Name: name, Filter: "passing"}
}

// Instance is a passing instance of a service.
func Instance(name, addr string, port int) *dep.HealthService {
	return &dep.HealthService{Name: name, ID: name + "-" + addr, Address: addr, Port: port, Status: "passing"}
}
