package watch

import (
	"log/slog"
	"math/rand/v2"
	"time"
)

// Defaults, those of consul-template so that operators see the same load and
// the same freshness.
const (
	DefaultBlockQueryWait = 60 * time.Second
	DefaultMinGap         = 100 * time.Millisecond
	DefaultFirstQueries   = 16
	DefaultAttempts       = 12
	DefaultBackoff        = 250 * time.Millisecond
	DefaultMaxBackoff     = time.Minute
)

// Options shape every poller of a pool. Zero fields take the defaults above,
// except MaxStale, whose zero value means "never stale".
type Options struct {
	// MaxStale lets any server answer when > 0; an answer whose LastContact
	// exceeds it is asked again of the leader at once.
	MaxStale time.Duration
	// BlockQueryWait is the wait of every blocking query.
	BlockQueryWait time.Duration
	// Retry shapes the retries of failed queries.
	Retry Retry
	// MinGap is the minimum time between the starts of two successive queries
	// of one dependency; up to a fifth of it is added at random.
	MinGap time.Duration
	// FirstQueries bounds the queries in flight that do not block (the first
	// of a dependency, or one after its index was reset). A job that
	// discovers a hundred services would otherwise open a hundred
	// connections at once, each to be dialled, for answers that take a
	// millisecond; bounded, they share a few kept-alive connections, and
	// Consul is spared the burst (consul-template #1065). Blocking queries,
	// which hold their connection for minutes, are not bounded.
	FirstQueries int
	// FirstDataOnly makes a poller stop at its dependency's first answer
	// with data, for a run that renders once (-once, with or without -dry,
	// and snapshot) and never uses a later answer: a blocking query for the
	// next change would hold a connection and a poller until the run ends.
	// A dependency without data yet goes on asking until it has some.
	FirstDataOnly bool
	// Logger receives errors, recoveries and (at debug) data changes.
	Logger *slog.Logger
}

// Retry is a capped exponential backoff: the n-th consecutive failure waits
// Backoff·2ⁿ⁻¹, at most MaxBackoff. After Attempts consecutive failures the
// dependency is reported failing, but it keeps retrying every MaxBackoff so
// that an outage heals by itself.
type Retry struct {
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

func (o Options) withDefaults() Options {
	if o.BlockQueryWait <= 0 {
		o.BlockQueryWait = DefaultBlockQueryWait
	}
	if o.MinGap <= 0 {
		o.MinGap = DefaultMinGap
	}
	if o.FirstQueries <= 0 {
		o.FirstQueries = DefaultFirstQueries
	}
	if o.Retry.Attempts <= 0 {
		o.Retry.Attempts = DefaultAttempts
	}
	if o.Retry.Backoff <= 0 {
		o.Retry.Backoff = DefaultBackoff
	}
	if o.Retry.MaxBackoff <= 0 {
		o.Retry.MaxBackoff = DefaultMaxBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// delay is the wait after the n-th consecutive failure (n >= 1), before jitter.
func (r Retry) delay(n int) time.Duration {
	d := r.Backoff
	for i := 1; i < n && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// jitterDown removes up to a fifth of d at random, so that pollers that
// failed together (Consul went away) do not all come back at the same
// instant, without ever exceeding d.
func jitterDown(d time.Duration) time.Duration {
	return d - rand.N(d/5+1)
}

// jitterUp adds up to a fifth of d at random, so that pollers woken by the
// same Consul index spread their next queries.
func jitterUp(d time.Duration) time.Duration {
	return d + rand.N(d/5+1)
}

// queryDeadline bounds one query: Consul holds a blocking query for its wait
// plus up to wait/16 of its own jitter; beyond that plus a margin the
// connection is presumed dead (a half-open TCP connection would otherwise
// hang a poller until the kernel gives up on it, minutes later).
func (o Options) queryDeadline() time.Duration {
	return o.BlockQueryWait + o.BlockQueryWait/16 + 30*time.Second
}
