package template

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// render parses and executes text once against s.
func render(t *testing.T, text string, o Options, s Store) (*Result, error) {
	t.Helper()
	if o.Name == "" {
		o.Name = "test.ctmpl"
	}
	tm, err := Parse(text, o)
	if err != nil {
		return nil, err
	}
	return tm.Execute(s)
}

// passText is what one execution of text against s writes, complete or
// not. Execute drops an incomplete pass's text, which nothing may use, so
// this runs a clone directly: what functions return while data is missing
// steers which dependencies the pass discovers, and is worth checking. It
// also checks that Execute gave an incomplete pass no output.
func passText(t *testing.T, text string, s Store) (string, bool) {
	t.Helper()
	res, err := render(t, text, Options{}, s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete() {
		return string(res.Output), true
	}
	if res.Output != nil {
		t.Errorf("%s: an incomplete pass has output %q", text, res.Output)
	}
	tm, err := Parse(text, Options{Name: "test.ctmpl"})
	if err != nil {
		t.Fatal(err)
	}
	x, err := tm.newExecution()
	if err != nil {
		t.Fatal(err)
	}
	x.begin(s)
	defer x.end()
	var b strings.Builder
	if err := x.tmpl.Execute(&b, nil); err != nil {
		t.Fatal(err)
	}
	return b.String(), false
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		o          Options
		want       string // substring of the error; "" means no error
	}{
		{"syntax", "ok\n{{ if }}", Options{}, "template: test.ctmpl:2: missing value for if"},
		{"undefined", "ok\n\n{{ nope }}", Options{}, `template: test.ctmpl:3: function "nope" not defined`},
		{"vault", "a\n  {{ secret \"x\" }}", Options{}, `template: test.ctmpl:2:5: function "secret" not supported by drcon: it reads Vault`},
		{"nomad in pipe", `{{ "x" | nomadVar }}`, Options{}, `test.ctmpl:1:9: function "nomadVar" not supported by drcon`},
		{"in define", `{{ define "d" }}{{ range partitions }}{{ end }}{{ end }}`, Options{}, `function "partitions" not supported by drcon`},
		{"in else branch", `{{ if true }}{{ else if pkiCert "a" }}{{ end }}`, Options{}, `function "pkiCert" not supported`},
		{"as argument", `{{ call secrets }}`, Options{}, `function "secrets" not supported`},
		{"in text", "secret nomadService partitions {{ \"secret\" }} {{/* secret */}}", Options{}, ""},
		{"variable", `{{ $secret := 1 }}{{ $secret }}`, Options{}, ""},
		{"denied refused", `{{ if false }}{{ secret "x" }}{{ end }}`, Options{FunctionDenylist: []string{"secret*"}}, ""},
		{"bad env", `x`, Options{Env: []string{"NOEQUALS"}}, `environment entry "NOEQUALS" is not NAME=value`},
		{"delims", `[[ key "x" ]] {{ nope }}`, Options{LeftDelim: "[[", RightDelim: "]]"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.Name = "test.ctmpl"
			_, err := Parse(tt.text, o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// MissingByFirstUse keeps the order in which the template asked, which
// consul-template starts the queries in; Missing is sorted.
func TestMissingByFirstUse(t *testing.T) {
	tm, err := Parse(`{{ key "z" }}{{ service "web" }}{{ key "a" }}{{ key "z" }}{{ key "m" }}`, Options{Name: "order"})
	if err != nil {
		t.Fatal(err)
	}
	z, a, m := must(dep.ParseKVBlock("z")), must(dep.ParseKVBlock("a")), must(dep.ParseKVBlock("m"))
	web := must(dep.ParseHealthService(dep.KindHealthService, "web"))
	res, err := tm.Execute(memStore{m: dep.KVValue{Exists: true, Value: "M"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []dep.Dependency{z, web, a}; !slices.Equal(res.MissingByFirstUse, want) {
		t.Errorf("MissingByFirstUse = %v, want %v", res.MissingByFirstUse, want)
	}
	if want := dep.Sort([]dep.Dependency{z, web, a}); !slices.Equal(res.Missing, want) {
		t.Errorf("Missing = %v, want %v", res.Missing, want)
	}
}

func TestUsedMissingAndNPass(t *testing.T) {
	text := `{{ range services }}{{ .Name }}:{{ range service .Name }} {{ .Address }}{{ end }}
{{ end }}{{ key "a" }}{{ key "a" }}{{ keyOrDefault "a" "d" }}{{ keyExists "b" }}`
	tm, err := Parse(text, Options{Name: "n.ctmpl"})
	if err != nil {
		t.Fatal(err)
	}
	services := dep.Dependency{Kind: dep.KindCatalogServices}
	a, aBlock := must(dep.ParseKV("a")), must(dep.ParseKVBlock("a"))
	b := must(dep.ParseKV("b"))
	web := must(dep.ParseHealthService(dep.KindHealthService, "web"))
	s := memStore{}

	res, err := tm.Execute(s)
	if err != nil {
		t.Fatal(err)
	}
	wantUsed := dep.Sort([]dep.Dependency{services, aBlock, a, b})
	if !slices.Equal(res.Used, wantUsed) || !slices.Equal(res.Missing, wantUsed) || res.Complete() {
		t.Fatalf("pass 1: used %v missing %v", res.Used, res.Missing)
	}

	s[services] = []*dep.CatalogSnippet{{Name: "web"}}
	s[a] = dep.KVValue{Exists: true, Value: "A"}
	s[aBlock] = s[a]
	s[b] = dep.KVValue{}
	res, _ = tm.Execute(s)
	if !slices.Equal(res.Missing, []dep.Dependency{web}) || len(res.Used) != 5 {
		t.Fatalf("pass 2: used %v missing %v", res.Used, res.Missing)
	}

	s[web] = []*dep.HealthService{{Address: "10.0.0.1"}, {Address: "10.0.0.2"}}
	res, _ = tm.Execute(s)
	if !res.Complete() || string(res.Output) != "web: 10.0.0.1 10.0.0.2\nAAAfalse" {
		t.Fatalf("pass 3: complete %v output %q", res.Complete(), res.Output)
	}
}

func TestKV(t *testing.T) {
	k, kBlock := must(dep.ParseKV("k")), must(dep.ParseKVBlock("k"))
	tests := []struct {
		name     string
		value    any // nil: no data
		text     string
		want     string
		complete bool
	}{
		{"key no data", nil, `[{{ key "k" }}]`, "[]", false},
		{"key absent waits", dep.KVValue{}, `[{{ key "k" }}]`, "[]", false},
		{"key empty", dep.KVValue{Exists: true}, `[{{ key "k" }}]`, "[]", true},
		{"key value", dep.KVValue{Exists: true, Value: "v"}, `[{{ key "k" }}]`, "[v]", true},
		{"exists no data", nil, `{{ keyExists "k" }}`, "false", false},
		{"exists absent", dep.KVValue{}, `{{ keyExists "k" }}`, "false", true},
		{"exists empty", dep.KVValue{Exists: true}, `{{ keyExists "k" }}`, "true", true},
		{"default no data", nil, `{{ keyOrDefault "k" "d" }}`, "d", false},
		{"default absent", dep.KVValue{}, `{{ keyOrDefault "k" "d" }}`, "d", true},
		{"default empty", dep.KVValue{Exists: true}, `{{ keyOrDefault "k" "d" }}`, "d", true},
		{"default value", dep.KVValue{Exists: true, Value: "v"}, `{{ keyOrDefault "k" "d" }}`, "v", true},
		{"empty names", nil, `[{{ key "" }}{{ keyExists "" }}{{ keyOrDefault "" "d" }}]`, "[falsed]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := memStore{}
			if tt.value != nil {
				s[k], s[kBlock] = tt.value, tt.value
			}
			out, complete := passText(t, tt.text, s)
			if out != tt.want || complete != tt.complete {
				t.Fatalf("got %q complete=%v, want %q complete=%v", out, complete, tt.want, tt.complete)
			}
		})
	}
}

// TestKeyIsADependencyOfItsOwn: consul-template's key is kv.block, a
// dependency apart from the kv.get of keyExists and keyOrDefault, though
// the query is the same: a pass that reaches key after keyExists found the
// key waits for key's own answer, and in that pass key gives "".
func TestKeyIsADependencyOfItsOwn(t *testing.T) {
	get, block := must(dep.ParseKV("n")), must(dep.ParseKVBlock("n"))
	text := `{{ if keyExists "n" }}{{ 100 | divide (key "n" | parseInt) }}{{ end }}`
	found := memStore{get: dep.KVValue{Exists: true, Value: "4"}}
	_, err := render(t, text, Options{}, found)
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("the pass after keyExists found the key: %v, want key's \"\" to divide by zero", err)
	}
	res, err := render(t, `{{ if keyExists "n" }}{{ key "n" }}{{ end }}`, Options{}, found)
	if err != nil || res.Complete() || !slices.Equal(res.Missing, []dep.Dependency{block}) {
		t.Fatalf("missing %v, %v; want only %s", res.Missing, err, block)
	}
	found[block] = found[get]
	if res, err := render(t, text, Options{}, found); err != nil || string(res.Output) != "25" {
		t.Fatalf("with both answers: %q, %v", res.Output, err)
	}
}

func TestKVLists(t *testing.T) {
	p := must(dep.ParseKVList("p"))
	pairs := []*dep.KeyPair{{Key: ""}, {Key: "a", Value: "1"}, {Key: "dir/"}, {Key: "dir/b", Value: "2"}, nil}
	tests := []struct {
		text, want string
		value      []*dep.KeyPair
		complete   bool
	}{
		{`{{ range ls "p" }}{{ .Key }} {{ end }}`, "a ", pairs, true},
		{`{{ range tree "p" }}{{ .Key }} {{ end }}`, "a dir/b ", pairs, true},
		{`{{ range safeLs "p" }}{{ .Key }} {{ end }}`, "a ", pairs, true},
		{`{{ len (ls "p") }}`, "0", []*dep.KeyPair{{Key: "dir/x"}}, true},
		{`{{ len (safeLs "p") }}`, "0", []*dep.KeyPair{{Key: "dir/x"}}, false},
		{`{{ len (tree "p") }}`, "0", []*dep.KeyPair{}, true},
		{`{{ len (safeTree "p") }}`, "0", []*dep.KeyPair{{Key: "dir/"}}, false},
	}
	for _, tt := range tests {
		out, complete := passText(t, tt.text, memStore{p: tt.value})
		if out != tt.want || complete != tt.complete {
			t.Errorf("%s: got %q complete=%v, want %q complete=%v", tt.text, out, complete, tt.want, tt.complete)
		}
	}
}

func TestConsulFunctions(t *testing.T) {
	web := must(dep.ParseHealthService(dep.KindHealthService, "web|passing,warning"))
	none := must(dep.ParseHealthService(dep.KindHealthService, "web|,"))
	conn := must(dep.ParseHealthService(dep.KindHealthConnect, "web"))
	node := must(dep.ParseCatalogNode("n1"))
	self := must(dep.ParseCatalogNode(""))
	s := memStore{
		web:                   []*dep.HealthService{{ID: "w1"}},
		none:                  []*dep.HealthService{}, // the fetcher accepts no instance
		conn:                  []*dep.HealthService{{ID: "c1"}},
		node:                  (*dep.CatalogNode)(nil),
		self:                  &dep.CatalogNode{Node: &dep.Node{Node: "me"}},
		dep.Datacenters(true): []string{"dc1", "dc2"},
		dep.CALeaf("web"):     nil,
	}
	tests := []struct{ text, want string }{
		{`{{ range service "web" "warning,passing" }}{{ .ID }}{{ end }}`, "w1"},
		{`{{ range service "web|passing,warning" }}{{ .ID }}{{ end }}`, "w1"},
		{`{{ range connect "web" }}{{ .ID }}{{ end }}`, "c1"},
		{`[{{ service "" }}][{{ connect "" "any" }}][{{ service "web|," }}]`, "[[]][[]][[]]"},
		{`{{ with node "n1" }}{{ printf "%v" .Node }} {{ len .Services }}{{ end }}`, "<nil> 0"},
		{`{{ with node }}{{ .Node.Node }}{{ end }}`, "me"},
		{`{{ datacenters true }}`, "[dc1 dc2]"},
		{`[{{ caLeaf "" }}]`, "[<no value>]"},
	}
	for _, tt := range tests {
		res, err := render(t, tt.text, Options{}, s)
		if err != nil {
			t.Errorf("%s: %v", tt.text, err)
			continue
		}
		if string(res.Output) != tt.want {
			t.Errorf("%s: got %q, want %q", tt.text, res.Output, tt.want)
		}
	}
	// A service filter list that names no state is still a query, as in
	// consul-template: it waits for an answer and fails where Consul
	// refuses the query.
	res, _ := render(t, `{{ service "web|," }}`, Options{}, memStore{})
	if !slices.Equal(res.Missing, []dep.Dependency{none}) || none.Filter != "" {
		t.Errorf("web|, missing %v", res.Missing)
	}
}

// TestDatacentersIsOneDependency: consul-template names the dependency of
// datacenters catalog.datacenters with either argument, so that both are
// one dependency: the variant a pass finds answered answers the other, and
// the first call of a pass answers the later ones.
func TestDatacentersIsOneDependency(t *testing.T) {
	all, reachable := dep.Datacenters(false), dep.Datacenters(true)
	tests := []struct {
		name, text string
		store      memStore
		want       string
		used       []dep.Dependency
		missing    bool
	}{
		{"the other variant answered", `{{ if datacenters true }}{{ index datacenters 0 }}{{ end }}`,
			memStore{all: []string{"dc1", "dc2"}}, "dc1", []dep.Dependency{all}, false},
		{"the other variant answered, reversed", `{{ if datacenters }}{{ datacenters true }}{{ end }}`,
			memStore{reachable: []string{"dc2"}}, "[dc2]", []dep.Dependency{reachable}, false},
		{"the variant asked for first", `{{ datacenters true }}{{ datacenters }}`,
			memStore{all: []string{"dc1", "dc2"}, reachable: []string{"dc2"}}, "[dc2][dc2]", []dep.Dependency{reachable}, false},
		{"no data: the first call's variant", `{{ datacenters }}{{ datacenters true }}`,
			memStore{}, "", []dep.Dependency{all}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := render(t, tt.text, Options{}, tt.store)
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tt.want || !slices.Equal(res.Used, tt.used) || res.Complete() == tt.missing {
				t.Fatalf("got %q used %v missing %v, want %q used %v", res.Output, res.Used, res.Missing, tt.want, tt.used)
			}
		})
	}
}

func TestWrongAnswerTypeIsAnError(t *testing.T) {
	web := must(dep.ParseHealthService(dep.KindHealthService, "web"))
	k := must(dep.ParseKVBlock("k"))
	for text, s := range map[string]memStore{
		`{{ service "web" }}`: {web: "not a list"},
		`{{ key "k" }}`:       {k: []string{"x"}},
		`{{ datacenters }}`:   {dep.Datacenters(false): nil},
	} {
		_, err := render(t, text, Options{}, s)
		if err == nil || !strings.Contains(err.Error(), "answer of type") {
			t.Errorf("%s: got %v, want an answer-type error", text, err)
		}
	}
}

type panickyStore struct{}

func (panickyStore) Recall(dep.Dependency) (any, bool) { panic("store exploded") }

func TestPanicsBecomeErrors(t *testing.T) {
	res, err := render(t, "a\n{{ key \"k\" }}", Options{}, panickyStore{})
	if err == nil || !strings.Contains(err.Error(), "store exploded") || !strings.Contains(err.Error(), "test.ctmpl:2") {
		t.Fatalf("got %v", err)
	}
	if len(res.Used) != 1 || res.Output != nil {
		t.Fatalf("the result of a failed execution lists what it used: %+v", res)
	}
}

func TestExecuteTemplateRecursionIsBounded(t *testing.T) {
	_, err := render(t, `{{ define "r" }}{{ executeTemplate "r" }}{{ end }}{{ executeTemplate "r" }}`, Options{}, memStore{})
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("got %v", err)
	}
	// The message says where it failed once, not once per level.
	if len(err.Error()) > 1000 {
		t.Fatalf("a %d-byte error: %.300s...", len(err.Error()), err)
	}
	_, err = render(t, `{{ define "r" }}{{ if lt . 50 }}{{ executeTemplate "r" (add 1 .) }}{{ else }}{{ parseInt "x" }}{{ end }}{{ end }}{{ executeTemplate "r" 0 }}`, Options{}, memStore{})
	if err == nil || !strings.Contains(err.Error(), `parsing "x"`) || len(err.Error()) > 1000 {
		t.Fatalf("got %v", err)
	}
}

// The main template is named "", as in consul-template; errors still name
// the file.
func TestMainTemplateIsNamedEmpty(t *testing.T) {
	tests := []struct{ text, want string }{
		{`{{ define "" }}only the define{{ end }}` + "\n", "only the define"},
		{`{{ if not (scratch.Key "x") }}{{ scratch.Set "x" 1 }}[{{ template "" }}]{{ else }}in{{ end }}`, "[in]"},
		{`{{ if not (scratch.Key "x") }}{{ scratch.Set "x" 1 }}[{{ executeTemplate "" }}]{{ else }}in{{ end }}`, "[in]"},
	}
	for _, tt := range tests {
		res, err := render(t, tt.text, Options{}, memStore{})
		if err != nil || string(res.Output) != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.text, res.Output, err, tt.want)
		}
	}
	_, err := render(t, "a\n{{ parseInt \"x\" }}", Options{}, memStore{})
	if err == nil || !strings.Contains(err.Error(), `template: test.ctmpl:2:3: executing "test.ctmpl" at <parseInt "x">`) {
		t.Fatalf("got %v", err)
	}
	_, err = Parse("{{ key \"a\"\n", Options{Name: "open.ctmpl"})
	if err == nil || err.Error() != "template: open.ctmpl:2: unclosed action started at open.ctmpl:1" {
		t.Fatalf("got %v", err)
	}
}

// The scratch has consul-template's fields, which a template can print.
func TestScratchLayout(t *testing.T) {
	res, err := render(t, `{{ scratch.Set "a" 1 }}{{ scratch }}|{{ scratch | toYAML }}|{{ if scratch.TryLock }}{{ scratch.Set "b" 2 }}{{ scratch.Get "b" }}{{ end }}`, Options{}, memStore{})
	want := "{{{} {{} 0} {{} {0 0}}} {{{} {0 0}} 0 0 {{} 0} {{} 0}} map[a:1]}|rwmutex: {}|2"
	if err != nil || string(res.Output) != want {
		t.Fatalf("got %q, %v; want %q", res.Output, err, want)
	}
}

func TestScratchIsPerExecution(t *testing.T) {
	tm, err := Parse(`{{ scratch.Key "x" }}{{ scratch.Set "x" 1 }}`, Options{Name: "s"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		res, err := tm.Execute(memStore{})
		if err != nil || string(res.Output) != "false" {
			t.Fatalf("got %q, %v", res.Output, err)
		}
	}
}

func TestLoopLeaksNoGoroutine(t *testing.T) {
	tm, err := Parse(`{{ range $i := loop 1000000 }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $i }}{{ end }}`, Options{Name: "l"})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 50 {
		res, err := tm.Execute(memStore{})
		if err != nil || string(res.Output) != "01" {
			t.Fatalf("got %q, %v", res.Output, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines left behind", n-before)
	}
}

// Executions of one Template from many goroutines see their own stores and
// record their own dependencies.
func TestConcurrentExecute(t *testing.T) {
	tm, err := Parse(`{{ range services }}{{ .Name }}={{ range service .Name }}{{ .ID }}{{ end }};{{ end }}{{ scratch.Set "a" 1 }}{{ range loop 2 }}{{ . }}{{ end }}`,
		Options{Name: "c"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("svc%d", g)
			d := must(dep.ParseHealthService(dep.KindHealthService, name))
			s := memStore{
				{Kind: dep.KindCatalogServices}: []*dep.CatalogSnippet{{Name: name}},
				d:                               []*dep.HealthService{{ID: name + "-1"}},
			}
			for range 200 {
				res, err := tm.Execute(s)
				if err != nil {
					errs <- err
					return
				}
				want := fmt.Sprintf("%s=%s-1;01", name, name)
				if string(res.Output) != want || len(res.Used) != 2 || !res.Complete() {
					errs <- fmt.Errorf("goroutine %d: got %q used %v", g, res.Output, res.Used)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// must is for dependencies the test itself spells; a typo there is a bug
// in the test.
func must(d dep.Dependency, err error) dep.Dependency {
	if err != nil {
		panic(err)
	}
	return d
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	text := fmt.Sprintf(`{{ file "%[1]s/b" }}{{ file "%[1]s/a" }}{{ file "%[1]s/b" }}`, dir)
	writeFile(t, dir+"/a", "A")
	writeFile(t, dir+"/b", "B")
	res, err := render(t, text, Options{}, memStore{})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != "BAB" || !slices.Equal(res.Files, []string{dir + "/a", dir + "/b"}) || len(res.Used) != 0 {
		t.Fatalf("got %q files %v used %v", res.Output, res.Files, res.Used)
	}
	res, err = render(t, fmt.Sprintf(`{{ file "%s/missing" }}`, dir), Options{}, memStore{})
	if err == nil || !slices.Equal(res.Files, []string{dir + "/missing"}) {
		t.Fatalf("a missing file is an error and still listed: %v %v", err, res.Files)
	}
	_, err = render(t, fmt.Sprintf(`{{ file "%s/a" }}`, dir), Options{SandboxPath: t.TempDir()}, memStore{})
	if err == nil || !strings.Contains(err.Error(), "outside of sandbox") {
		t.Fatalf("sandbox: %v", err)
	}
}

// TestFileFirstPass: consul-template's first pass that asks for a file sees
// "" for it, so a template that cannot cope with "" fails even though the
// file exists; later passes, and later executions, see the contents.
func TestFileFirstPass(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/lines", "one\ntwo\n")
	writeFile(t, dir+"/next", dir+"/lines")
	fragile, err := Parse(fmt.Sprintf(`{{ index (file "%s/lines" | split "\n") 1 }}`, dir), Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fragile.Execute(memStore{}); err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Fatalf("want the first pass's error, got %v", err)
	}
	// consul-template exits there; a daemon job's next render reads the file.
	if res, err := fragile.Execute(memStore{}); err != nil || string(res.Output) != "two" {
		t.Fatalf("second render: %q, %v", res.Output, err)
	}

	// A path read from a file is new on the pass after: three passes.
	tm, err := Parse(fmt.Sprintf(`{{ with file "%s/next" }}{{ file . }}{{ end }}`, dir), Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		res, err := tm.Execute(memStore{})
		if err != nil || string(res.Output) != "one\ntwo\n" || len(res.Files) != 2 {
			t.Fatalf("got %q files %v: %v", res.Output, res.Files, err)
		}
	}

	// The file is read between the passes, once: the second pass's append
	// is not seen, as consul-template reads it into its cache once.
	out := dir + "/appended"
	res, err := render(t, fmt.Sprintf(`{{ "x" | writeToFile %[1]q "" "" "0644" "append,newline" }}{{ file %[1]q }}{{ file %[1]q }}`, out), Options{}, memStore{})
	if err != nil || string(res.Output) != "x\nx\n" {
		t.Fatalf("got %q: %v", res.Output, err)
	}
}

// TestFileCache: a file is read once and later executions see what it held
// then, as consul-template's cache; RereadFiles reads it again and says
// whether a render could differ. A template that writes a file and reads it
// back renders what it held before the write, as in consul-template.
func TestFileCache(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/a", "A")
	tm, err := Parse(fmt.Sprintf(`{{ file "%s/a" }}`, dir), Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	execute := func() string {
		t.Helper()
		res, err := tm.Execute(memStore{})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Output)
	}
	if got := execute(); got != "A" {
		t.Fatalf("first render %q", got)
	}
	writeFile(t, dir+"/a", "B")
	if got := execute(); got != "A" {
		t.Fatalf("a render before RereadFiles: %q, want the cached A", got)
	}
	if !tm.RereadFiles() {
		t.Fatal("RereadFiles missed the change")
	}
	if got := execute(); got != "B" {
		t.Fatalf("after RereadFiles: %q", got)
	}
	if tm.RereadFiles() {
		t.Fatal("RereadFiles reported a change with none")
	}

	back := dir + "/back"
	k := must(dep.ParseKVBlock("k"))
	s := memStore{}
	wb, err := Parse(fmt.Sprintf(`{{ key "k" | writeToFile %[1]q "" "" "0644" }}[{{ file %[1]q }}]`, back), Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := wb.Execute(s); err != nil || res.Complete() {
		t.Fatalf("without the key: complete %v, %v", res.Complete(), err)
	}
	s[k] = dep.KVValue{Exists: true, Value: "v"}
	if res, err := wb.Execute(s); err != nil || string(res.Output) != "[]" {
		t.Fatalf("read back: %q, %v; want what the file held before this render wrote it", res.Output, err)
	}
	if !wb.RereadFiles() {
		t.Fatal("RereadFiles missed the write")
	}
	if res, err := wb.Execute(s); err != nil || string(res.Output) != "[v]" {
		t.Fatalf("after RereadFiles: %q, %v", res.Output, err)
	}
	if wb.RereadFiles() {
		t.Fatal("the same content written again is no change")
	}
}

// TestFileForgottenWhenUnused: consul-template forgets the data of a
// dependency that a pass does not use, a file too; a later pass that uses
// the file again sees "" for it, then what it holds by then, not what it
// held when it was first read.
func TestFileForgottenWhenUnused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/a", "A")
	tm, err := Parse(fmt.Sprintf(`{{ if eq (keyOrDefault "mode" "") "read" }}[{{ file "%s/a" }}]{{ end }}`, dir), Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	mode := must(dep.ParseKV("mode"))
	execute := func(m string) string {
		t.Helper()
		res, err := tm.Execute(memStore{mode: dep.KVValue{Exists: true, Value: m}})
		if err != nil || !res.Complete() {
			t.Fatalf("mode %s: complete %v, %v", m, res.Complete(), err)
		}
		return string(res.Output)
	}
	if got := execute("read"); got != "[A]" {
		t.Fatalf("first read %q", got)
	}
	writeFile(t, dir+"/a", "B")
	if got := execute("read"); got != "[A]" {
		t.Fatalf("still in use: %q, want the cached A", got)
	}
	if got := execute("skip"); got != "" {
		t.Fatalf("unused: %q", got)
	}
	if got := execute("read"); got != "[B]" {
		t.Fatalf("used again after a pass without it: %q, want B, read afresh", got)
	}
}

func TestEnvFunctions(t *testing.T) {
	t.Setenv("DRCON_T_SET", "process")
	t.Setenv("DRCON_T_EMPTY", "")
	o := Options{Env: []string{"DRCON_T_OPT=opt", "DRCON_T_SET=overridden", "DRCON_T_OPT=second", "DRCON_T_OPTEMPTY="}}
	tests := []struct{ text, want, err string }{
		{`{{ env "DRCON_T_OPT" }} {{ env "DRCON_T_SET" }} [{{ env "DRCON_T_UNSET" }}]`, "opt overridden []", ""},
		{`{{ envOrDefault "DRCON_T_EMPTY" "d" }}|{{ envOrDefault "DRCON_T_UNSET" "d" }}|{{ envOrDefault "DRCON_T_OPTEMPTY" "d" }}`, "|d|", ""},
		{`{{ mustEnv "DRCON_T_SET" }}`, "overridden", ""},
		{`{{ mustEnv "DRCON_T_EMPTY" }}`, "", "required environment variable DRCON_T_EMPTY is empty"},
		{`{{ mustEnv "DRCON_T_OPTEMPTY" }}`, "", "required environment variable DRCON_T_OPTEMPTY is empty"},
	}
	for _, tt := range tests {
		res, err := render(t, tt.text, o, memStore{})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %v, want %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil || string(res.Output) != tt.want {
			t.Errorf("%s: got %q %v, want %q", tt.text, res.Output, err, tt.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2024, 2, 29, 13, 4, 5, 0, time.FixedZone("X", 3600))
	o := Options{now: func() time.Time { return at }}
	res, err := render(t, `{{ timestamp }} {{ timestamp "unix" }} {{ timestamp "2006-01-02 15:04" }}`, o, memStore{})
	if err != nil || string(res.Output) != "2024-02-29T12:04:05Z 1709208245 2024-02-29 12:04" {
		t.Fatalf("got %q %v", res.Output, err)
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		name, text string
		o          Options
		want, err  string
	}{
		{"missing key zero", `[{{ (parseJSON "{}").a }}] [{{ (splitToMap "," "=" "a=1").b }}]`, Options{}, "[<no value>] []", ""},
		{"missing key error", `{{ (parseJSON "{}").a }}`, Options{ErrOnMissingKey: true}, "", `map has no entry for key "a"`},
		{"delims", `<<"x" | toUpper>> {{ x }}`, Options{LeftDelim: "<<", RightDelim: ">>"}, "X {{ x }}", ""},
		{"denied", `{{ "x" | sprig_upper }}`, Options{FunctionDenylist: []string{"sprig_*"}}, "", "function is disabled"},
		{"denied consul", `{{ key "k" }}`, Options{FunctionDenylist: []string{"k*y"}}, "", "function is disabled"},
		{"not denied", `{{ "x" | toUpper }}`, Options{FunctionDenylist: []string{"sprig_*", "to"}}, "X", ""},
		{"denied arg types", `{{ add 1 2 }}`, Options{FunctionDenylist: []string{"add"}}, "", "expected string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := render(t, tt.text, tt.o, memStore{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || string(res.Output) != tt.want {
				t.Fatalf("got %q %v, want %q", res.Output, err, tt.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	for _, tt := range []struct {
		pattern, name string
		want          bool
	}{
		{"*", "anything", true}, {"key", "key", true}, {"key", "keys", false}, {"sprig_*", "sprig_upper", true},
		{"sprig_*", "xsprig_upper", false}, {"*Env", "mustEnv", true}, {"to*er", "toUpper", true},
		{"to*er", "toTitle", false}, {"a*b*c", "aXbYc", true}, {"a*b*c", "acb", false}, {"ab*ba", "aba", false},
		{"[a]", "a", false}, {"?", "a", false}, {"", "", true},
	} {
		if got := glob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("glob(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

// consulTemplateFuncs is consul-template v0.41.1's funcMap without sprig_*.
var consulTemplateFuncs = []string{
	"add", "base64Decode", "base64Encode", "base64URLDecode", "base64URLEncode", "byKey", "byMeta", "byPort",
	"byTag", "caLeaf", "caRoots", "connect", "contains", "containsAll", "containsAny", "containsNone",
	"containsNotAll", "datacenters", "divide", "env", "envOrDefault", "executeTemplate", "explode", "explodeMap",
	"exportedServices", "file", "hmacSHA256Hex", "in", "indent", "join", "key", "keyExists", "keyOrDefault",
	"loop", "ls", "maximum", "md5sum", "mergeMap", "mergeMapWithOverride", "minimum", "modulo", "multiply",
	"mustEnv", "node", "nodes", "nomadService", "nomadServices", "nomadVar", "nomadVarExists", "nomadVarList",
	"nomadVarListSafe", "parseBool", "parseFloat", "parseInt", "parseJSON", "parseUint", "parseYAML",
	"partitions", "peerings", "pkiCert", "plugin", "regexMatch", "regexReplaceAll", "replaceAll", "safeLs",
	"safeTree", "scratch", "secret", "secrets", "service", "services", "sha256Hex", "sockaddr", "split",
	"splitToMap", "spew_dump", "spew_printf", "spew_sdump", "spew_sprintf", "subtract", "timestamp", "toJSON",
	"toJSONPretty", "toLower", "toTOML", "toTitle", "toUnescapedJSON", "toUnescapedJSONPretty", "toUpper",
	"toYAML", "tree", "trim", "trimPrefix", "trimSpace", "trimSuffix", "writeToFile",
}

func TestFuncNames(t *testing.T) {
	names := FuncNames()
	if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatal("FuncNames must be sorted and distinct")
	}
	var own, sprig []string
	for _, n := range names {
		if strings.HasPrefix(n, "sprig_") {
			sprig = append(sprig, n)
		} else {
			own = append(own, n)
		}
	}
	var want []string
	for _, n := range consulTemplateFuncs {
		if _, refused := unsupported[n]; !refused {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	if !slices.Equal(own, want) {
		t.Fatalf("FuncNames differ from consul-template's supported functions:\n got %v\nwant %v", own, want)
	}
	for _, n := range []string{"sprig_upper", "sprig_default", "sprig_fail", "sprig_toJson"} {
		if !slices.Contains(sprig, n) {
			t.Errorf("missing %s", n)
		}
	}
	for _, n := range []string{"sprig_now", "sprig_date", "sprig_env", "sprig_randAlpha", "sprig_uuidv4", "sprig_getHostByName"} {
		if slices.Contains(sprig, n) {
			t.Errorf("%s is not repeatable and consul-template excludes it", n)
		}
	}
	// Every listed function parses.
	for _, n := range names {
		if _, err := Parse(fmt.Sprintf("{{ if false }}{{ %s }}{{ end }}", n), Options{Name: n}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestExecuteErrorNamesTemplateAndLine(t *testing.T) {
	_, err := render(t, "a\nb {{ parseInt \"x\" }}", Options{}, memStore{})
	var want = "template: test.ctmpl:2:5"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want prefix %q", err, want)
	}
	if errors.Is(err, errDisabled) {
		t.Fatal("wrong error")
	}
}
