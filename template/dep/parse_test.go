package dep

import "testing"

// The expected canonical strings were checked against consul-template
// v0.41.1's dependency constructors and String methods (which use the same
// format), except where the comment says drcon normalises further.
func TestParseHealthService(t *testing.T) {
	tests := []struct {
		in   string
		kind Kind
		want string
		err  string
	}{
		{in: "web", want: "health.service(web|passing)"},
		{in: "web", kind: KindHealthConnect, want: "health.connect(web|passing)"},
		{in: "prod.web", want: "health.service(prod.web|passing)"},
		{in: "v1.2.web", want: "health.service(v1.2.web|passing)"},
		{in: "k=v:x.web-1_a", want: "health.service(k=v:x.web-1_a|passing)"},
		{in: "web@dc2", want: "health.service(web@dc2|passing)"},
		{in: "web~_agent", want: "health.service(web~_agent|passing)"},
		{in: "web|any", want: "health.service(web|any)"},
		{in: "web|warning,passing", want: "health.service(web|passing,warning)"},
		// A repeated state is kept, as in consul-template: a query of its own.
		{in: "web|passing,passing", want: "health.service(web|passing,passing)"},
		{in: "web|critical,maintenance,any", want: "health.service(web|any,critical,maintenance)"},
		{in: "web?ns=team&partition=p1@dc2~n1|warning", want: "health.service(web@dc2@partition=p1@ns=team~n1|warning)"},
		{in: "web?peer=other", want: "health.service(web@peer=other|passing)"},
		{in: "web?sameness-group=g", want: "health.service(web@sameness-group=g|passing)"},
		{in: "web?ns=a&ns=b", want: "health.service(web@ns=a|passing)"},
		{in: "web|,", want: "health.service(web)"},
		{in: "", err: `health.service: invalid format: ""`},
		{in: "web|", err: `health.service: invalid format: "web|"`},
		{in: "web.", err: `health.service: invalid format: "web."`},
		{in: "web|passing|warning", err: `health.service: invalid format: "web|passing|warning"`},
		{in: "web|healthy", err: `health.service: invalid filter: "healthy" in "web|healthy"`},
		{in: "web?foo=bar", err: `health.service: invalid query parameter key "foo" in query "foo=bar": supported keys: ns,peer,partition,sameness-group`},
		{in: "web?peer=a&sameness-group=b", err: `health.service: cannot specify both peer and sameness-group`},
		{in: "web name", err: `health.service: invalid format: "web name"`},
	}
	for _, tt := range tests {
		kind := tt.kind
		if kind == "" {
			kind = KindHealthService
		}
		d, err := ParseHealthService(kind, tt.in)
		check(t, tt.in, d, err, tt.want, tt.err)
	}
}

func TestParseKV(t *testing.T) {
	tests := []struct {
		in, want, err string
		list          bool
	}{
		{in: "app/config", want: "kv.get(app/config)"},
		{in: "/app/config", want: "kv.get(app/config)"},
		{in: "//app", want: "kv.get(/app)"},
		{in: "app/with space", want: "kv.get(app/with space)"},
		{in: "app@dc2", want: "kv.get(app@dc2)"},
		{in: "app?ns=n&partition=p@dc2", want: "kv.get(app@dc2@partition=p@ns=n)"},
		{in: "app?peer=x", want: "kv.get(app)"},
		{in: "app/", list: true, want: "kv.list(app/)"},
		{in: "app?ns=n", list: true, want: "kv.list(app@ns=n)"},
		{in: "", err: `kv.get: invalid format: ""`},
		{in: "/", want: "kv.get(/)"},
		{in: "app@", err: `kv.get: invalid format: "app@"`},
		{in: "app?x", err: `kv.get: invalid query parameter key "x" in query "x": supported keys: ns,peer,partition,sameness-group`},
		{in: "app@dc 1", list: true, err: `kv.list: invalid format: "app@dc 1"`},
	}
	for _, tt := range tests {
		parse := ParseKV
		if tt.list {
			parse = ParseKVList
		}
		d, err := parse(tt.in)
		check(t, tt.in, d, err, tt.want, tt.err)
	}
}

func TestParseCatalog(t *testing.T) {
	tests := []struct {
		parse     func(string) (Dependency, error)
		in        string
		want, err string
	}{
		{parse: ParseCatalogServices, in: "", want: "catalog.services"},
		{parse: ParseCatalogServices, in: "@dc2", want: "catalog.services(@dc2)"},
		{parse: ParseCatalogServices, in: "?ns=n@dc2", want: "catalog.services(@dc2@ns=n)"},
		{parse: ParseCatalogServices, in: "web", err: `catalog.services: invalid format: "web"`},
		{parse: ParseCatalogServices, in: "?nope=1", err: `catalog.services: invalid query parameter key "nope" in query "nope=1": supported keys: ns,peer,partition,sameness-group`},
		{parse: ParseCatalogNode, in: "", want: "catalog.node"},
		{parse: ParseCatalogNode, in: "node-1.example", want: "catalog.node(node-1.example)"},
		{parse: ParseCatalogNode, in: "n1?partition=p@dc2", want: "catalog.node(n1@dc2@partition=p)"},
		{parse: ParseCatalogNode, in: "@dc2", err: `catalog.node: invalid format: "@dc2"`},
		{parse: ParseCatalogNode, in: "n 1", err: `catalog.node: invalid format: "n 1"`},
		{parse: ParseCatalogNodes, in: "", want: "catalog.nodes"},
		{parse: ParseCatalogNodes, in: "@dc2~n1", want: "catalog.nodes(@dc2~n1)"},
		{parse: ParseCatalogNodes, in: "~_agent", want: "catalog.nodes(~_agent)"},
		{parse: ParseCatalogNodes, in: "n1", err: `catalog.nodes: invalid format: "n1"`},
	}
	for _, tt := range tests {
		d, err := tt.parse(tt.in)
		check(t, tt.in, d, err, tt.want, tt.err)
	}
}

func TestFixedDependencies(t *testing.T) {
	for _, tt := range []struct {
		d    Dependency
		want string
	}{
		{Datacenters(false), "catalog.datacenters"},
		{Datacenters(true), "catalog.datacenters(ignore-inaccessible)"},
		{CARoots(), "connect.caroots"},
		{CALeaf("web"), "connect.caleaf(web)"},
	} {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%#v: got %q, want %q", tt.d, got, tt.want)
		}
	}
}

func check(t *testing.T, in string, d Dependency, err error, want, wantErr string) {
	t.Helper()
	switch {
	case wantErr != "":
		if err == nil || err.Error() != wantErr {
			t.Errorf("%q: got error %v (dependency %s), want %q", in, err, d, wantErr)
		}
	case err != nil:
		t.Errorf("%q: unexpected error %v", in, err)
	case d.String() != want:
		t.Errorf("%q: got %s, want %s", in, d, want)
	}
}
