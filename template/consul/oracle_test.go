package consul_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/snapshot"
	"github.com/drcon/drcon/template/watch"
)

// oracleCase is one consul-template expression and the dependency whose
// answer it prints; view turns our answer into what the consul-template
// function returns from its Fetch's answer (identity for most).
type oracleCase struct {
	name string
	expr string
	d    dep.Dependency
	view func(any) any
}

func svc(kind dep.Kind, tag, name, near, filter string) dep.Dependency {
	return dep.Dependency{Kind: kind, Tag: tag, Name: name, Near: near, Filter: filter}
}

var oracleCases = []oracleCase{
	{"service", `service "web"`, svc(dep.KindHealthService, "", "web", "", "passing"), nil},
	{"service-any", `service "web|any"`, svc(dep.KindHealthService, "", "web", "", "any"), nil},
	{"service-passing-warning", `service "web|warning,passing"`, svc(dep.KindHealthService, "", "web", "", "passing,warning"), nil},
	{"service-critical", `service "web|critical"`, svc(dep.KindHealthService, "", "web", "", "critical"), nil},
	{"service-maintenance", `service "web|maintenance"`, svc(dep.KindHealthService, "", "web", "", "maintenance"), nil},
	{"service-tag", `service "b.web|any"`, svc(dep.KindHealthService, "b", "web", "", "any"), nil},
	{"service-near", `service "web~_agent|any"`, svc(dep.KindHealthService, "", "web", "_agent", "any"), nil},
	{"service-no-state", `service "web|,"`, svc(dep.KindHealthService, "", "web", "", ""), nil},
	{"service-absent", `service "nosuch"`, svc(dep.KindHealthService, "", "nosuch", "", "passing"), nil},
	{"connect", `connect "api"`, svc(dep.KindHealthConnect, "", "api", "", "passing"), nil},
	{"connect-not-connect", `connect "web|any"`, svc(dep.KindHealthConnect, "", "web", "", "any"), nil},
	{"services", `services`, dep.Dependency{Kind: dep.KindCatalogServices}, nil},
	{"node-self", `node`, dep.Dependency{Kind: dep.KindCatalogNode}, nil},
	{"node-alpha", `node "alpha"`, dep.Dependency{Kind: dep.KindCatalogNode, Name: "alpha"}, nil},
	{"node-absent", `node "nosuch"`, dep.Dependency{Kind: dep.KindCatalogNode, Name: "nosuch"}, nil},
	{"nodes", `nodes`, dep.Dependency{Kind: dep.KindCatalogNodes}, nil},
	{"nodes-near", `nodes "~_agent"`, dep.Dependency{Kind: dep.KindCatalogNodes, Near: "_agent"}, nil},
	{"datacenters", `datacenters`, dep.Dependency{Kind: dep.KindDatacenters}, nil},
	{"datacenters-ignore", `datacenters true`, dep.Dependency{Kind: dep.KindDatacenters, IgnoreInaccessible: true}, nil},
	{"key-exists", `keyExists "k/a"`, kvDep("k/a"), exists},
	{"key-value", `keyOrDefault "k/a" "dflt"`, kvDep("k/a"), orDefault("dflt")},
	{"key-empty", `keyOrDefault "k/empty" "dflt"`, kvDep("k/empty"), orDefault("dflt")},
	{"key-absent", `keyExists "k/nope"`, kvDep("k/nope"), exists},
	{"key-absent-default", `keyOrDefault "k/nope" "dflt"`, kvDep("k/nope"), orDefault("dflt")},
	{"tree", `tree "k"`, listDep("k"), tree},
	{"tree-slash", `tree "k/"`, listDep("k/"), tree},
	{"tree-absent", `tree "nope"`, listDep("nope"), tree},
	{"ls", `ls "k"`, listDep("k"), ls},
	{"ls-sub", `ls "k/b"`, listDep("k/b"), ls},
	{"ca-roots", `caRoots`, dep.Dependency{Kind: dep.KindCARoots}, nil},
	{"ca-leaf", `caLeaf "web"`, dep.Dependency{Kind: dep.KindCALeaf, Name: "web"}, nil},
	{"peerings", `peerings`, dep.Dependency{Kind: dep.KindPeerings}, nil},
}

func kvDep(k string) dep.Dependency   { return dep.Dependency{Kind: dep.KindKV, Name: k} }
func listDep(k string) dep.Dependency { return dep.Dependency{Kind: dep.KindKVList, Name: k} }

func exists(v any) any { return v.(dep.KVValue).Exists }

func orDefault(def string) func(any) any {
	return func(v any) any {
		if kv := v.(dep.KVValue); kv.Exists && kv.Value != "" {
			return kv.Value
		}
		return def
	}
}

// tree and ls filter the list answer as consul-template's functions do.
func tree(v any) any {
	out := []*dep.KeyPair{}
	for _, p := range v.([]*dep.KeyPair) {
		if parts := strings.Split(p.Key, "/"); parts[len(parts)-1] != "" {
			out = append(out, p)
		}
	}
	return out
}

func ls(v any) any {
	out := []*dep.KeyPair{}
	for _, p := range v.([]*dep.KeyPair) {
		if p.Key != "" && !strings.Contains(p.Key, "/") {
			out = append(out, p)
		}
	}
	return out
}

// TestAnswersMatchConsulTemplate renders every case with consul-template
// v0.41.1 as toJSON, which prints every exported field of its Fetch's
// answer, and compares it byte for byte with our answer for the same state.
func TestAnswersMatchConsulTemplate(t *testing.T) {
	bin := testenv.ConsulTemplate(t)
	c := startConsul(t)
	seed(t, c)

	var tmpl strings.Builder
	for _, oc := range oracleCases {
		fmt.Fprintf(&tmpl, "%s={{ %s | toJSON }}\n", oc.name, oc.expr)
	}
	oracle := renderOnce(t, bin, c.Addr, tmpl.String())

	// Health queries go through consul/api, or, as the agent sends them,
	// through the fetcher's own request and decoder: both must match.
	cfg := func() *api.Config { return &api.Config{Address: c.Addr} }
	fetchers := []struct {
		name string
		f    *consul.Fetcher
	}{{"consul-api", apiFetcher(t, cfg())}, {"own-decoder", fastFetcher(t, cfg())}}
	live := map[dep.Dependency]any{}
	for _, fc := range fetchers {
		for _, oc := range oracleCases {
			t.Run(fc.name+"/"+oc.name, func(t *testing.T) {
				v, m, err := fc.f.Fetch(t.Context(), oc.d, watch.QueryOptions{AllowStale: true})
				if err != nil {
					t.Fatal(err)
				}
				if m.LastIndex == 0 {
					t.Errorf("answer without an index")
				}
				live[oc.d] = v
				if oc.view != nil {
					v = oc.view(v)
				}
				got, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if want := oracle[oc.name]; string(got) != want {
					t.Errorf("%s (%s):\n got %s\nwant %s", oc.expr, oc.d, got, want)
				}
			})
		}
	}

	// A snapshot of these live answers reads back deeply equal, so offline
	// renders print the same bytes.
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, live); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range live {
		if got, ok := s.Answer(d); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("snapshot of %s:\n got %#v\nwant %#v", d, got, want)
		}
	}
}

// renderOnce runs consul-template -once on text and returns its lines by name.
func renderOnce(t *testing.T, bin, addr, text string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.tmpl"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-consul-addr", addr, "-template", in+":"+out, "-log-level", "warn")
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("consul-template: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		name, value, _ := strings.Cut(l, "=")
		lines[name] = value
	}
	return lines
}
