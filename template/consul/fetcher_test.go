package consul_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// client returns a consul/api client for addr.
func client(t *testing.T, addr string) *api.Client {
	t.Helper()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = addr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	v   any
	m   watch.ResponseMeta
	err error
}

// fetchAsync starts a Fetch and returns where its result will arrive.
func fetchAsync(ctx context.Context, f *consul.Fetcher, d dep.Dependency, q watch.QueryOptions) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, m, err := f.Fetch(ctx, d, q)
		ch <- result{v, m, err}
	}()
	return ch
}

// awaitChange opens a blocking query of d at index, applies change once the
// proxy sees it open, and returns the first answer that passes check. An
// answer before the change is asked again at its index: Consul ends a
// query when an index it shares moves, as the agent's own writes after its
// start do. It fails after 30s without an answer that passes check.
func awaitChange(t *testing.T, f *consul.Fetcher, p *testenv.Proxy, d dep.Dependency, index uint64,
	change func(), check func(any) bool) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	changed := false
	for {
		ch := fetchAsync(ctx, f, d, watch.QueryOptions{WaitIndex: index, WaitTime: 5 * time.Minute})
		var r result
		early := false
		if !changed {
			testenv.WaitFor(t, 10*time.Second, "the blocking query to be open", func() bool {
				select {
				case r = <-ch:
					early = true
					return true
				default:
				}
				open, _ := p.Blocking()
				return open == 1
			})
			if !early {
				change()
				changed = true
			}
		}
		if !early {
			r = <-ch
		}
		if r.err != nil {
			t.Fatal(r.err)
		}
		if changed && check(r.v) {
			return r
		}
		index = r.m.LastIndex
	}
}

func TestBlockingQueriesReturnOnChange(t *testing.T) {
	c := startConsul(t)
	p := testenv.StartProxy(t, c.Addr)
	f := consul.New(client(t, p.Addr), consul.Options{})
	web := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
	tests := []struct {
		name   string
		d      dep.Dependency
		change func()
		check  func(any) bool
	}{{
		name:   "a missing key blocks until it is created",
		d:      dep.Dependency{Kind: dep.KindKV, Name: "app/missing"},
		change: func() { c.PutKV("app/missing", "here") },
		check:  func(v any) bool { return v == dep.KVValue{Exists: true, Value: "here"} },
	}, {
		name:   "a list blocks until a key under the prefix changes",
		d:      dep.Dependency{Kind: dep.KindKVList, Name: "app/"},
		change: func() { c.PutKV("app/x", "1") },
		check:  func(v any) bool { l := v.([]*dep.KeyPair); return len(l) > 0 },
	}, {
		name: "a service blocks until an instance registers",
		d:    web,
		change: func() {
			c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 80})
		},
		check: func(v any) bool { l := v.([]*dep.HealthService); return len(l) == 1 && l[0].ID == "web-1" },
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, m, err := f.Fetch(t.Context(), tt.d, watch.QueryOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := awaitChange(t, f, p, tt.d, m.LastIndex, tt.change, tt.check)
			if r.m.LastIndex <= m.LastIndex {
				t.Fatalf("after the change: index %d (was %d)", r.m.LastIndex, m.LastIndex)
			}
		})
	}
}

func TestContextAbortsABlockingQuery(t *testing.T) {
	c := startConsul(t)
	p := testenv.StartProxy(t, c.Addr)
	f := consul.New(client(t, p.Addr), consul.Options{})
	// An absent key: nothing but a KV write can end the query early.
	d := dep.Dependency{Kind: dep.KindKV, Name: "absent"}
	_, m, err := f.Fetch(t.Context(), d, watch.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ch := fetchAsync(ctx, f, d, watch.QueryOptions{WaitIndex: m.LastIndex, WaitTime: 10 * time.Minute})
	testenv.WaitFor(t, 10*time.Second, "the blocking query to be open", func() bool {
		open, _ := p.Blocking()
		return open == 1
	})
	cancel()
	r := <-ch
	if !errors.Is(r.err, context.Canceled) || !strings.Contains(r.err.Error(), "kv.get(absent)") {
		t.Fatalf("error %v: want context.Canceled, naming the dependency", r.err)
	}
	testenv.WaitFor(t, 10*time.Second, "the proxy to see the query end", func() bool {
		open, _ := p.Blocking()
		return open == 0
	})
}

func TestUseCacheOnlyForStaleHealth(t *testing.T) {
	c := startConsul(t)
	var (
		mu      sync.Mutex
		queries []string
	)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: c.Addr})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f := consul.New(client(t, srv.Listener.Addr().String()), consul.Options{UseCache: true})
	tests := []struct {
		d      dep.Dependency
		stale  bool
		cached bool
	}{
		{dep.Dependency{Kind: dep.KindHealthService, Name: "consul", Filter: "passing"}, true, true},
		{dep.Dependency{Kind: dep.KindHealthConnect, Name: "consul", Filter: "passing"}, true, true},
		{dep.Dependency{Kind: dep.KindHealthService, Name: "consul", Filter: "passing"}, false, false},
		{dep.Dependency{Kind: dep.KindCatalogServices}, true, false},
		{dep.Dependency{Kind: dep.KindCatalogNodes}, true, false},
		{dep.Dependency{Kind: dep.KindKV, Name: "k"}, true, false},
	}
	for _, tt := range tests {
		if _, _, err := f.Fetch(t.Context(), tt.d, watch.QueryOptions{AllowStale: tt.stale}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		q := queries[len(queries)-1]
		mu.Unlock()
		if got := strings.Contains(q, "cached"); got != tt.cached {
			t.Errorf("%s stale=%v: query %s, want cached=%v", tt.d, tt.stale, q, tt.cached)
		}
	}

	// The agent answers blocking queries from its cache too.
	d := dep.Dependency{Kind: dep.KindHealthService, Name: "db", Filter: "passing"}
	_, m, err := f.Fetch(t.Context(), d, watch.QueryOptions{AllowStale: true})
	if err != nil {
		t.Fatal(err)
	}
	ch := fetchAsync(t.Context(), f, d, watch.QueryOptions{WaitIndex: m.LastIndex, WaitTime: time.Minute, AllowStale: true})
	c.Register(&api.AgentServiceRegistration{ID: "db", Name: "db", Port: 5432})
	r := <-ch
	if r.err != nil || r.m.LastIndex <= m.LastIndex {
		t.Fatalf("cached blocking query: %+v", r)
	}
	if l := r.v.([]*dep.HealthService); len(l) != 1 || l[0].ID != "db" {
		t.Fatalf("cached blocking query: %v", l)
	}
}

func TestLocalNodeNameIsAskedOncePerWatch(t *testing.T) {
	c := startConsul(t)
	p := testenv.StartProxy(t, c.Addr)
	f := consul.New(client(t, p.Addr), consul.Options{})
	d := dep.Dependency{Kind: dep.KindCatalogNode}
	v, m, err := f.Fetch(t.Context(), d, watch.QueryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := v.(*dep.CatalogNode); n.Node == nil || n.Node.Node != "drcon-test" {
		t.Fatalf("local node: %+v", n)
	}
	// The blocking query returns on a change of the node: the registration
	// below, or the fresh agent's own sync.
	ch := fetchAsync(t.Context(), f, d, watch.QueryOptions{WaitIndex: m.LastIndex, WaitTime: time.Minute})
	c.Register(&api.AgentServiceRegistration{ID: "db", Name: "db", Port: 5432})
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := p.PathCount("/v1/agent/self"); got != 1 {
		t.Fatalf("/v1/agent/self asked %d times for two queries, want 1", got)
	}
	// A fresh query (after a failure or a reset) asks again: the agent may
	// have restarted under another name.
	if _, _, err := f.Fetch(t.Context(), d, watch.QueryOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := p.PathCount("/v1/agent/self"); got != 2 {
		t.Fatalf("/v1/agent/self asked %d times, want 2", got)
	}
}

func TestDatacentersArePolled(t *testing.T) {
	c := startConsul(t)
	f := consul.New(c.Client(), consul.Options{DatacentersPoll: 50 * time.Millisecond})
	d := dep.Dependency{Kind: dep.KindDatacenters}
	v, m, err := f.Fetch(t.Context(), d, watch.QueryOptions{})
	if err != nil || m.LastIndex != 1 {
		t.Fatalf("first answer: %v %+v %v", v, m, err)
	}
	// A "blocking" query sleeps the poll interval and answers the next index,
	// so that the pool compares the data.
	v, m, err = f.Fetch(t.Context(), d, watch.QueryOptions{WaitIndex: 1, WaitTime: time.Minute})
	if err != nil || m.LastIndex != 2 || len(v.([]string)) != 1 || v.([]string)[0] != "dc1" {
		t.Fatalf("polled answer: %v %+v %v", v, m, err)
	}
	slow := consul.New(c.Client(), consul.Options{DatacentersPoll: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	ch := fetchAsync(ctx, slow, d, watch.QueryOptions{WaitIndex: 2, WaitTime: time.Minute})
	cancel()
	if r := <-ch; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled poll: %v", r.err)
	}
}

func TestErrorsNameTheDependency(t *testing.T) {
	f := consul.New(client(t, "127.0.0.1:"+strconv.Itoa(testenv.FreePort(t))), consul.Options{})
	for _, d := range []dep.Dependency{
		{Kind: dep.KindKV, Name: "a"},
		{Kind: dep.KindHealthService, Name: "web", Filter: "passing"},
		{Kind: dep.KindCatalogNode},
		{Kind: dep.KindDatacenters},
		{Kind: "nosuch.kind", Name: "x"},
	} {
		if _, _, err := f.Fetch(t.Context(), d, watch.QueryOptions{}); err == nil || !strings.Contains(err.Error(), d.String()) {
			t.Errorf("%s: error %v does not name it", d, err)
		}
	}
}

// startConsul starts a dev agent whose gRPC-TLS port is disabled: a dev
// agent takes the fixed port 8503 for it otherwise, so two agents on one
// machine (another package's tests run in parallel) collide and one fails.
func startConsul(t *testing.T) *testenv.Consul {
	t.Helper()
	return testenv.StartConsul(t)
}
