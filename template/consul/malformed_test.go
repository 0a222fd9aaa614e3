package consul_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// TestOddAnswersNeverPanic feeds every kind answers that Consul does not
// give (nulls where objects belong, empty objects, garbage) from a loopback
// server: each must end in a value or an error, never a panic.
func TestOddAnswersNeverPanic(t *testing.T) {
	bodies := []string{`null`, `[]`, `{}`, `[null]`, `[{}]`, `[{"Node":{}}]`, `{"Node":null,"Services":{"x":null}}`,
		`{"Node":{},"Services":{"x":null}}`, `[{"Node":{},"Service":{},"Checks":[null]}]`, `{"Roots":[null]}`, `{"Roots":null}`, `{"a":null}`, `not json`, ``}
	deps := []dep.Dependency{
		{Kind: dep.KindKV, Name: "k"},
		{Kind: dep.KindKVList, Name: "k"},
		{Kind: dep.KindHealthService, Name: "web", Filter: "passing"},
		{Kind: dep.KindHealthConnect, Name: "web", Filter: "any"},
		{Kind: dep.KindCatalogServices},
		{Kind: dep.KindCatalogNode},
		{Kind: dep.KindCatalogNode, Name: "n"},
		{Kind: dep.KindCatalogNodes},
		{Kind: dep.KindDatacenters, IgnoreInaccessible: true},
		{Kind: dep.KindCARoots},
		{Kind: dep.KindCALeaf, Name: "web"},
	}
	for _, body := range bodies {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Consul-Index", "5")
			if r.URL.Path == "/v1/agent/self" {
				w.Write([]byte(`{"Config":{"NodeName":"n"}}`))
				return
			}
			w.Write([]byte(body))
		}))
		addr := strings.TrimPrefix(srv.URL, "http://")
		own := fastFetcher(t, &api.Config{Address: addr})
		for _, f := range []*consul.Fetcher{consul.New(client(t, addr), consul.Options{}), own} {
			for _, d := range deps {
				v, _, err := f.Fetch(t.Context(), d, watch.QueryOptions{})
				// A successful answer is always typed, even when it is a nil slice.
				if err == nil && v == nil {
					t.Errorf("%s on %q: neither a value nor an error", d, body)
				}
			}
		}
		srv.Close()
	}
}
