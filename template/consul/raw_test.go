package consul_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// fastFetcher is a fetcher that sends health queries itself, as the agent
// builds it: with the configuration api.NewClient resolved.
func fastFetcher(t *testing.T, cfg *api.Config) *consul.Fetcher {
	t.Helper()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return consul.New(c, consul.Options{Config: cfg})
}

// apiFetcher is a fetcher that leaves health queries to consul/api.
func apiFetcher(t *testing.T, cfg *api.Config) *consul.Fetcher {
	t.Helper()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return consul.New(c, consul.Options{})
}

// recorded is what a request carried that Consul reads.
type recorded struct {
	Method, Path string
	Query        url.Values
	Token, Auth  string
}

// TestOwnHealthQueriesAreConsulAPIs: the fetcher's own health requests carry
// what consul/api's carry (path, every parameter, token, basic auth, the
// client's default datacenter and namespace), and give the same answers,
// metadata and errors.
func TestOwnHealthQueriesAreConsulAPIs(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []recorded
		fail bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, recorded{r.Method, r.URL.Path, r.URL.Query(), r.Header.Get("X-Consul-Token"), r.Header.Get("Authorization")})
		broken := fail
		mu.Unlock()
		if broken {
			http.Error(w, "boom ", http.StatusInternalServerError)
			return
		}
		w.Header().Set("X-Consul-Index", "42")
		w.Header().Set("X-Consul-LastContact", "7")
		w.Header().Set("X-Consul-KnownLeader", "true")
		w.Write([]byte(healthAnswer))
	}))
	t.Cleanup(srv.Close)
	config := func() *api.Config {
		return &api.Config{Address: strings.TrimPrefix(srv.URL, "http://"), Token: "secret", Datacenter: "dc9",
			Namespace: "team", HttpAuth: &api.HttpBasicAuth{Username: "u", Password: "p"}}
	}
	viaAPI, own := apiFetcher(t, config()), fastFetcher(t, config())

	web := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
	cases := []struct {
		d dep.Dependency
		q watch.QueryOptions
	}{
		{web, watch.QueryOptions{}},
		{web, watch.QueryOptions{AllowStale: true, WaitIndex: 41, WaitTime: time.Minute}},
		{web, watch.QueryOptions{WaitIndex: 3, WaitTime: 500 * time.Microsecond}},
		{dep.Dependency{Kind: dep.KindHealthService, Name: "web", Tag: "v1", Filter: "any", DC: "dc2", Near: "_agent",
			Namespace: "ns1", Partition: "p1", Peer: "peer1", SamenessGroup: "sg"}, watch.QueryOptions{AllowStale: true}},
		{dep.Dependency{Kind: dep.KindHealthService, Name: "we b/x", Filter: "critical,warning"}, watch.QueryOptions{}},
		{dep.Dependency{Kind: dep.KindHealthConnect, Name: "api", Filter: "passing"}, watch.QueryOptions{}},
	}
	for _, tc := range cases {
		mu.Lock()
		seen = nil
		mu.Unlock()
		v1, m1, err1 := viaAPI.Fetch(t.Context(), tc.d, tc.q)
		v2, m2, err2 := own.Fetch(t.Context(), tc.d, tc.q)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: consul/api: %v; own: %v", tc.d, err1, err2)
		}
		mu.Lock()
		if len(seen) != 2 || !reflect.DeepEqual(seen[0], seen[1]) {
			t.Errorf("%s %+v: requests differ:\nconsul/api %+v\nown        %+v", tc.d, tc.q, seen[0], seen[1:])
		}
		mu.Unlock()
		if !reflect.DeepEqual(v1, v2) || m1 != m2 {
			t.Errorf("%s: answers differ:\nconsul/api %#v %+v\nown        %#v %+v", tc.d, v1, m1, v2, m2)
		}
	}

	mu.Lock()
	fail = true
	mu.Unlock()
	_, _, err1 := viaAPI.Fetch(t.Context(), web, watch.QueryOptions{})
	_, _, err2 := own.Fetch(t.Context(), web, watch.QueryOptions{})
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("errors differ:\nconsul/api %v\nown        %v", err1, err2)
	}
}

// A health answer with two instances on two nodes, checks included.
const healthAnswer = `[
{"Node":{"ID":"n2","Node":"node-b","Address":"10.0.0.2","TaggedAddresses":{"lan":"10.0.0.2"},"Meta":{"rack":"r2"}},
 "Service":{"ID":"web-2","Service":"web","Tags":["z","a"],"Address":"","Port":81,"Weights":{"Passing":1,"Warning":1},
  "Meta":null,"TaggedAddresses":{"lan":{"Address":"10.0.0.2","Port":81}}},
 "Checks":[{"Node":"node-b","CheckID":"serfHealth","Status":"passing","Definition":{}}]},
{"Node":{"ID":"n1","Node":"node-a","Address":"10.0.0.1"},
 "Service":{"ID":"web-1","Service":"web","Tags":[],"Address":"10.0.0.11","Port":80,"Weights":{"Passing":3,"Warning":1}},
 "Checks":[{"Node":"node-a","CheckID":"c","Status":"warning","ServiceID":"web-1","Definition":{"Interval":"10s"}}]}
]`
