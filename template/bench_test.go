package template

import (
	"fmt"
	"testing"

	"github.com/drcon/drcon/template/dep"
)

// nginxUpstreams is the DR CoN template: one least_conn upstream per
// service, found with range services and service .Name.
const nginxUpstreams = `{{- range services }}{{ $name := .Name }}{{ with service .Name }}
upstream {{ $name }} {
  least_conn;
{{- range . }}
  server {{ .Address }}:{{ .Port }} max_fails=3 fail_timeout=60 weight=1;
{{- end }}
}
{{- end }}{{ end }}
`

// upstreamStore holds services × instances healthy instances.
func upstreamStore(services, instances int) memStore {
	s := memStore{}
	var snippets []*dep.CatalogSnippet
	for i := range services {
		name := fmt.Sprintf("service-%03d", i)
		snippets = append(snippets, &dep.CatalogSnippet{Name: name, Tags: dep.ServiceTags{"http"}})
		list := make([]*dep.HealthService, instances)
		for j := range instances {
			list[j] = &dep.HealthService{
				Node: fmt.Sprintf("node-%03d", j), Address: fmt.Sprintf("10.%d.%d.%d", i/250, i%250, j),
				ID: fmt.Sprintf("%s-%d", name, j), Name: name, Tags: dep.ServiceTags{"http"},
				Status: "passing", Port: 8000 + j,
			}
		}
		d, err := dep.ParseHealthService(dep.KindHealthService, name)
		if err != nil {
			panic(err)
		}
		s[d] = list
	}
	s[dep.Dependency{Kind: dep.KindCatalogServices}] = snippets
	return s
}

// BenchmarkNginxUpstreams executes the template over 5,000 instances (100
// services of 50), as every render of a parsed template does.
func BenchmarkNginxUpstreams(b *testing.B) {
	s := upstreamStore(100, 50)
	tm, err := Parse(nginxUpstreams, Options{Name: "nginx.ctmpl"})
	if err != nil {
		b.Fatal(err)
	}
	res, err := tm.Execute(s)
	if err != nil || !res.Complete() {
		b.Fatalf("%v %v", err, res.Missing)
	}
	b.SetBytes(int64(len(res.Output)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := tm.Execute(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNginxUpstreamsParseEach parses before every execution, as
// consul-template does (it re-parses and rebuilds its function map on every
// run): the cost drcon's parse-once design saves.
func BenchmarkNginxUpstreamsParseEach(b *testing.B) {
	s := upstreamStore(100, 50)
	b.ReportAllocs()
	for b.Loop() {
		tm, err := Parse(nginxUpstreams, Options{Name: "nginx.ctmpl"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tm.Execute(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is the cost of parsing alone.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(nginxUpstreams, Options{Name: "nginx.ctmpl"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteSmall is the fixed cost of an execution: pool, store
// lookups, recording, result.
func BenchmarkExecuteSmall(b *testing.B) {
	k, _ := dep.ParseKV("app/name")
	s := memStore{k: dep.KVValue{Exists: true, Value: "drcon"}}
	tm, err := Parse(`name = {{ key "app/name" }}`, Options{Name: "small.ctmpl"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tm.Execute(s); err != nil {
			b.Fatal(err)
		}
	}
}
