package dedup

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// Defaults and timing.
const (
	DefaultPrefix = "drcon/dedup/"
	DefaultTTL    = 15 * time.Second

	// settling is how often the member looks at the pool's set while the
	// set changes; steady is how often it looks once it has joined the
	// set's group and nothing is due sooner. A new dependency wakes it at
	// once; steady bounds how late it sees one dropped.
	settling = 100 * time.Millisecond
	steady   = time.Second
	// settle is how long the set must stay the same, every dependency
	// answered, before the agent joins the set's group.
	settle = 300 * time.Millisecond
	// grace is how long a follower keeps trusting data whose writer it has
	// not heard from beyond ttl: a new leader's first publication takes
	// one round of queries.
	grace = time.Second
	// debounce gathers the answers of one Consul change into one
	// publication; minGap caps a group at 20 publications a second, so
	// that flapping dependencies cannot flood Consul with writes
	// (consul-template #677) while a lone change waits only debounce.
	debounce = 2 * time.Millisecond
	minGap   = 50 * time.Millisecond
	// writeTimeout bounds one write or non-blocking read.
	writeTimeout = 10 * time.Second
)

// Options shape a Member.
type Options struct {
	// Prefix is the KV prefix of every group (DefaultPrefix when empty).
	Prefix string
	// TTL is the session TTL (DefaultTTL when zero; Consul accepts 10s to
	// 24h). A silent leader is deposed after TTL, and its data trusted for
	// TTL plus a second.
	TTL time.Duration
	// MaxStale lets any Consul server answer the watches of the lock and
	// the data, as the pool's queries do; 0 asks the leader.
	MaxStale time.Duration
	// BlockQueryWait is the wait of those watches (the pool's default when zero).
	BlockQueryWait time.Duration
	// Version is drcon's version, written with every publication.
	Version string
	Logger  *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.Prefix = normalizePrefix(o.Prefix)
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.BlockQueryWait <= 0 {
		o.BlockQueryWait = watch.DefaultBlockQueryWait
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Member is one agent's part in dedup. It is the agent's watch.Fetcher
// (wrapping the one that asks Consul) and, in Run, elects, beats,
// publishes and follows. Fetch works before and after Run: without a
// trusted publication it asks Consul.
type Member struct {
	c      *api.Client
	direct watch.Fetcher
	o      Options
	log    *slog.Logger
	// holder names this agent to the others: host and process.
	holder string

	srv *server
	rec *recorder
	// set is the set the leader publishes, replaced by Run.
	set atomic.Pointer[depSet]

	knownMu sync.Mutex
	known   map[string]dep.Dependency // every dependency asked, by canonical string
	// learned wakes Run when a dependency is asked for the first time.
	learned chan struct{}

	mu     sync.Mutex
	status Status
}

var _ watch.Fetcher = (*Member)(nil)

// New returns a member that shares through c and asks direct for what it
// does not share.
func New(c *api.Client, direct watch.Fetcher, o Options) *Member {
	o = o.withDefaults()
	host, _ := os.Hostname()
	m := &Member{c: c, direct: direct, o: o, log: o.Logger.With("component", "dedup"),
		holder: fmt.Sprintf("%s:%d", host, os.Getpid()), srv: newServer(), rec: newRecorder(o.MaxStale),
		known: map[string]dep.Dependency{}, learned: make(chan struct{}, 1)}
	m.status = Status{Role: RoleJoining, Fallback: "waiting for the set of dependencies to settle"}
	return m
}

// Run takes part in dedup until ctx ends; watched reports the pool's
// dependencies (watch.Pool.Status). On return the member has let go of
// its lock, so that another agent leads at once, and destroyed its
// session. It returns nil when ctx ends.
func (m *Member) Run(ctx context.Context, watched func() []watch.DependencyStatus) error {
	l := newLoop(m, watched)
	defer l.stop()
	return l.run(ctx)
}

// Status is a snapshot of the member's state.
func (m *Member) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Omitted = append([]string(nil), s.Omitted...)
	return s
}

func (m *Member) update(f func(*Status)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.status)
}
