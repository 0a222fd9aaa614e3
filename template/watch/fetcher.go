package watch

import (
	"context"
	"errors"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// Fetcher answers one query for one dependency. template/consul implements
// it over Consul's HTTP API; tests implement it with fakes.
type Fetcher interface {
	// Fetch returns the answer to d. With q.WaitIndex > 0 it is a blocking
	// query: it returns when the answer's index passes WaitIndex or WaitTime
	// has passed, whichever comes first. It returns promptly with ctx's error
	// when ctx ends. The value is shared by every subscriber and must not be
	// modified after it is returned.
	Fetch(ctx context.Context, d dep.Dependency, q QueryOptions) (value any, meta ResponseMeta, err error)
}

// ErrConnectionLimit marks a query that Consul refused because this host
// holds too many connections to it (HTTP 429). Each distinct dependency
// holds one for its blocking query, so the pool says what to change.
var ErrConnectionLimit = errors.New("consul refused the connection: too many from this host")

// QueryOptions are the per-query options the pool chooses; the dependency
// itself carries what to ask (datacenter, namespace, filter...).
type QueryOptions struct {
	// WaitIndex is the index of the last answer; 0 asks without blocking.
	WaitIndex uint64
	// WaitTime bounds how long a blocking query may be held by Consul.
	WaitTime time.Duration
	// AllowStale lets any server answer, not only the leader.
	AllowStale bool
}

// ResponseMeta is what the pool needs to know about an answer.
type ResponseMeta struct {
	// LastIndex is the answer's index (X-Consul-Index).
	LastIndex uint64
	// LastContact is how long ago the answering server last heard from the
	// leader; only meaningful for stale answers.
	LastContact time.Duration
}
