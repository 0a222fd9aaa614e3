// Package consul fetches the answer to each kind of dependency from Consul's
// HTTP API, one small file per kind, with the exact shape, filtering and
// order that consul-template v0.41.1 gives the same answer, so that templates
// render the same bytes. Fetcher implements watch.Fetcher.
//
// Queries go through consul/api, except health queries when the fetcher has
// the client's configuration: it sends those itself (raw.go) and decodes
// them with its own single-pass parser (health_json.go, jsonlex.go), since
// decoding thousands of instances with encoding/json was most of the CPU
// of rendering an upstream per service.
package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// DefaultDatacentersPoll is how often the datacenters list, which Consul
// cannot watch with a blocking query, is asked again (consul-template's value).
const DefaultDatacentersPoll = 15 * time.Second

// Options shape a Fetcher.
type Options struct {
	// UseCache sends health queries (service, connect) with ?cached: the
	// local agent answers them from its cache, which it keeps fresh with one
	// background watch of the servers per distinct query, shared with every
	// other client of that agent, and serves blocking queries from it.
	// Cached answers may be stale, so the cache is used only for queries
	// that allow stale answers. Consul 1.10+ serves blocking health queries
	// from its streaming view anyway; ?cached adds the first, non-blocking
	// query. Catalog services are never asked ?cached: Consul 1.14.11 was
	// seen answering /v1/catalog/services?cached with its first index (an
	// X-Cache HIT) long after services were registered.
	UseCache bool
	// DatacentersPoll is the datacenters' poll interval; zero means 15s.
	DatacentersPoll time.Duration
	// Config is the configuration the client was created from, as
	// api.NewClient left it (it resolves the address, scheme, token file
	// and HTTP client in place). When set, the fetcher sends health
	// queries itself and decodes their answers with a parser of its own,
	// several times cheaper than consul/api's encoding/json.
	Config *api.Config
}

// Fetcher fetches dependencies from Consul. It is safe for concurrent use.
type Fetcher struct {
	c    *api.Client
	o    Options
	self agentName
}

// New returns a Fetcher that asks c.
func New(c *api.Client, o Options) *Fetcher {
	if o.DatacentersPoll <= 0 {
		o.DatacentersPoll = DefaultDatacentersPoll
	}
	return &Fetcher{c: c, o: o}
}

var errNoMeta = errors.New("answer without response metadata")

// Fetch answers d; see watch.Fetcher. Errors name the dependency.
func (f *Fetcher) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	var (
		v   any
		qm  *api.QueryMeta
		err error
	)
	switch d.Kind {
	case dep.KindKV, dep.KindKVBlock:
		v, qm, err = f.kv(ctx, d, q)
	case dep.KindKVList:
		v, qm, err = f.kvList(ctx, d, q)
	case dep.KindHealthService:
		v, qm, err = f.health(ctx, d, q, false)
	case dep.KindHealthConnect:
		v, qm, err = f.health(ctx, d, q, true)
	case dep.KindCatalogServices:
		v, qm, err = f.catalogServices(ctx, d, q)
	case dep.KindCatalogNode:
		v, qm, err = f.catalogNode(ctx, d, q)
	case dep.KindCatalogNodes:
		v, qm, err = f.catalogNodes(ctx, d, q)
	case dep.KindDatacenters:
		return f.datacenters(ctx, d, q)
	case dep.KindCARoots:
		v, qm, err = f.caRoots(ctx, q)
	case dep.KindCALeaf:
		v, qm, err = f.caLeaf(ctx, d, q)
	case dep.KindPeerings:
		v, qm, err = f.peerings(ctx, d, q)
	default:
		err = fmt.Errorf("unknown dependency kind %q", d.Kind)
	}
	if err == nil && qm == nil {
		err = errNoMeta
	}
	if err != nil {
		if se := (api.StatusError{}); errors.As(err, &se) && se.Code == http.StatusTooManyRequests {
			return nil, watch.ResponseMeta{}, fmt.Errorf("fetch %s: %w: %w", d, watch.ErrConnectionLimit, err)
		}
		return nil, watch.ResponseMeta{}, fmt.Errorf("fetch %s: %w", d, err)
	}
	return v, watch.ResponseMeta{LastIndex: qm.LastIndex, LastContact: qm.LastContact}, nil
}

// options are the consul/api options of one query: the pool's blocking and
// consistency choices, bound to ctx. Each kind adds the dependency's own
// options that consul-template sends for it, and no others.
func options(ctx context.Context, q watch.QueryOptions) *api.QueryOptions {
	o := &api.QueryOptions{AllowStale: q.AllowStale, WaitIndex: q.WaitIndex}
	if q.WaitIndex > 0 {
		o.WaitTime = q.WaitTime
	}
	return o.WithContext(ctx)
}

// cached reports whether a query may be answered from the agent's cache:
// the cache refreshes itself with stale reads, so a query that must reach
// the leader (no max_stale, or an answer found too stale) bypasses it.
func (f *Fetcher) cached(q watch.QueryOptions) bool { return f.o.UseCache && q.AllowStale }

// malformed reports an answer that Consul would never give, instead of
// letting it crash the agent.
func malformed(what string) error { return fmt.Errorf("malformed answer: %s", what) }

// sortedTags copies and sorts tags, as consul-template does: never nil, so
// that toJSON prints [] rather than null; duplicates are kept.
func sortedTags(tags []string) dep.ServiceTags {
	out := make(dep.ServiceTags, 0, len(tags))
	out = append(out, tags...)
	slices.Sort(out)
	return out
}
