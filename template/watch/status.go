package watch

import (
	"slices"
	"strings"
	"time"
)

// DependencyStatus describes one watched dependency, for the agent's status
// endpoint and logs.
type DependencyStatus struct {
	// Dependency is the canonical string, e.g. health.service(web|passing).
	Dependency  string
	Subscribers int
	// HasData is false until the first answer.
	HasData   bool
	LastIndex uint64
	// WatchedSince is when the first subscriber wanted the dependency.
	WatchedSince time.Time
	// LastChange is when the data last changed; zero before the first answer.
	LastChange time.Time
	// Age is how long ago Consul last answered for the dependency (or, before
	// the first answer, how long it has been watched): it grows during an
	// outage, while the data is kept.
	Age time.Duration
	// LastError is the most recent failure, kept after recovery, and when it
	// happened; empty if there was none.
	LastError   string
	LastErrorAt time.Time
	// Failures counts consecutive failed queries; any answer resets it.
	Failures int
	// Failing is true once Failures reached Retry.Attempts. The dependency is
	// still retried, every Retry.MaxBackoff.
	Failing bool
}

// Stats are the pool's counters, exported by the agent as metrics.
type Stats struct {
	// Dependencies is the number of distinct dependencies watched now.
	Dependencies int
	// Subscriptions is the number of open subscriptions.
	Subscriptions int
	// Failing is the number of dependencies failing now.
	Failing int
	// Queries counts the queries sent, QueryErrors those that failed
	// (cancellations excluded), Changes the answers whose data differed from
	// the previous one. All three only grow.
	Queries     uint64
	QueryErrors uint64
	Changes     uint64
}

// Status describes every watched dependency, sorted by canonical string.
func (p *Pool) Status() []DependencyStatus {
	now := time.Now()
	p.mu.RLock()
	out := make([]DependencyStatus, 0, len(p.watchers))
	for _, w := range p.watchers {
		since := w.answeredAt
		if since.IsZero() {
			since = w.since
		}
		out = append(out, DependencyStatus{
			Dependency:   w.key,
			Subscribers:  len(w.subs),
			HasData:      w.has,
			LastIndex:    w.index,
			WatchedSince: w.since,
			LastChange:   w.changedAt,
			Age:          now.Sub(since),
			LastError:    w.lastErr,
			LastErrorAt:  w.lastErrAt,
			Failures:     w.failures,
			Failing:      w.failing,
		})
	}
	p.mu.RUnlock()
	slices.SortFunc(out, func(a, b DependencyStatus) int { return strings.Compare(a.Dependency, b.Dependency) })
	return out
}

// Stats returns the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.RLock()
	s := Stats{Dependencies: len(p.watchers), Subscriptions: len(p.subs)}
	for _, w := range p.watchers {
		if w.failing {
			s.Failing++
		}
	}
	p.mu.RUnlock()
	s.Queries = p.queries.Load()
	s.QueryErrors = p.queryErrors.Load()
	s.Changes = p.changes.Load()
	return s
}
