// Package watch tests and measures drcon's watcher pool (template/watch with
// the template/consul fetchers) against a real Consul dev agent. Churn is
// the benchmark helper that integration/bench compares with consul-template.
package watch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	twatch "github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// ChurnOptions shape a churn: Services services, each with one instance on
// an external node, and Subscribers subscribers that each want the list of
// services and every service's passing instances (the `range services` /
// `service .Name` template); each round re-registers Changes instances with
// a new tag, round-robin over the services.
type ChurnOptions struct {
	Services    int // default 200
	Subscribers int // default 50
	Changes     int // per round; default 200
	Pool        twatch.Options
	Consul      consul.Options
}

// ChurnResult is what one round cost, counted at a proxy in front of Consul
// and in the pool.
type ChurnResult struct {
	Changes      int    // catalog changes made
	Dependencies int    // distinct dependencies watched
	Requests     int    // HTTP requests sent to Consul
	Bytes        int64  // response bytes received
	DataChanges  uint64 // answers whose data differed from the previous
	Signals      int64  // change signals received, summed over subscribers
}

// Churn is a pool with its subscribers over a populated Consul.
type Churn struct {
	o       ChurnOptions
	c       *testenv.Consul
	proxy   *testenv.Proxy
	pool    *twatch.Pool
	subs    []*twatch.Subscription
	deps    []dep.Dependency
	version []int // each service's current tag is v<version>
	signals atomic.Int64
	initial ChurnResult
}

const churnNode = "churn"

// NewChurn registers the services, starts the pool and the subscribers, and
// waits until every subscriber has every answer and the pool is idle. All of
// it ends with tb.
func NewChurn(tb testing.TB, c *testenv.Consul, o ChurnOptions) *Churn {
	tb.Helper()
	o.Services = cmp.Or(o.Services, 200)
	o.Subscribers = cmp.Or(o.Subscribers, 50)
	o.Changes = cmp.Or(o.Changes, 200)
	ch := &Churn{o: o, c: c, version: make([]int, o.Services)}
	for i := range o.Services {
		ch.register(tb, i)
	}

	ch.proxy = testenv.StartProxy(tb, c.Addr)
	cfg := api.DefaultConfig()
	cfg.Address = ch.proxy.Addr
	cfg.Transport.MaxIdleConnsPerHost = o.Services + 16 // one per blocking query, reused
	cl, err := api.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ch.pool = twatch.New(consul.New(cl, o.Consul), o.Pool)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := ch.pool.Run(ctx); err != nil {
			tb.Errorf("pool: %v", err)
		}
	})
	tb.Cleanup(func() {
		cancel()
		wg.Wait()
		cfg.Transport.CloseIdleConnections()
	})

	ch.deps = []dep.Dependency{{Kind: dep.KindCatalogServices}}
	for i := range o.Services {
		ch.deps = append(ch.deps, dep.Dependency{Kind: dep.KindHealthService, Name: serviceName(i), Filter: "passing"})
	}
	for range o.Subscribers {
		s := ch.pool.Subscribe()
		wg.Go(func() { ch.count(ctx, s) })
		s.Want(ch.deps)
		ch.subs = append(ch.subs, s)
	}
	ch.settle(tb)
	st := ch.pool.Stats()
	ch.initial = ChurnResult{Dependencies: len(ch.deps), Requests: ch.proxy.Requests(), Bytes: ch.proxy.Bytes(),
		DataChanges: st.Changes, Signals: ch.signals.Load()}
	return ch
}

// Initial is what NewChurn cost: every subscriber's first answers.
func (ch *Churn) Initial() ChurnResult { return ch.initial }

// Round makes the round's changes, waits until every subscriber sees the
// last of them and the pool is idle again, and returns what it cost.
func (ch *Churn) Round(tb testing.TB) ChurnResult {
	tb.Helper()
	ch.proxy.Reset()
	before, signals := ch.pool.Stats(), ch.signals.Load()
	for k := range ch.o.Changes {
		i := k % ch.o.Services
		ch.version[i]++
		ch.register(tb, i)
	}
	ch.settle(tb)
	after := ch.pool.Stats()
	return ChurnResult{
		Changes:      ch.o.Changes,
		Dependencies: len(ch.deps),
		Requests:     ch.proxy.Requests(),
		Bytes:        ch.proxy.Bytes(),
		DataChanges:  after.Changes - before.Changes,
		Signals:      ch.signals.Load() - signals,
	}
}

func (ch *Churn) register(tb testing.TB, i int) {
	tb.Helper()
	_, err := ch.c.Client().Catalog().Register(&api.CatalogRegistration{
		Node: churnNode, Address: "127.0.0.1",
		Service: &api.AgentService{ID: serviceName(i), Service: serviceName(i), Tags: []string{ch.tag(i)}, Port: 8000 + i},
	}, nil)
	if err != nil {
		tb.Fatalf("register %s: %v", serviceName(i), err)
	}
}

// settle waits until every subscriber recalls the current tags and every
// dependency's poller waits in a blocking query.
func (ch *Churn) settle(tb testing.TB) {
	tb.Helper()
	testenv.WaitFor(tb, 2*time.Minute, "every subscriber to see the current catalog", func() bool {
		for _, s := range ch.subs {
			if !ch.current(s) {
				return false
			}
		}
		return true
	})
	testenv.WaitFor(tb, 2*time.Minute, "one blocking query per dependency", func() bool {
		open, distinct := ch.proxy.Blocking()
		return open == len(ch.deps) && distinct == len(ch.deps)
	})
}

func (ch *Churn) current(s *twatch.Subscription) bool {
	v, ok := s.Recall(ch.deps[0])
	if !ok {
		return false
	}
	listed := map[string][]string{}
	for _, sn := range v.([]*dep.CatalogSnippet) {
		listed[sn.Name] = sn.Tags
	}
	for i, d := range ch.deps[1:] {
		want := []string{ch.tag(i)}
		v, ok := s.Recall(d)
		if !ok || !slices.Equal(listed[d.Name], want) {
			return false
		}
		inst := v.([]*dep.HealthService)
		if len(inst) != 1 || !slices.Equal(inst[0].Tags, want) {
			return false
		}
	}
	return true
}

// count counts s's change signals until ctx ends, as a template job's render
// loop would receive them.
func (ch *Churn) count(ctx context.Context, s *twatch.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.Changed():
			ch.signals.Add(1)
		}
	}
}

func serviceName(i int) string { return fmt.Sprintf("svc-%03d", i) }

func (ch *Churn) tag(i int) string { return fmt.Sprintf("v%d", ch.version[i]) }
