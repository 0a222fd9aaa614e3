package template

import (
	"cmp"
	"fmt"
	"slices"
	"text/template"

	"github.com/drcon/drcon/template/dep"
)

// execution is the state of one Execute: the dependencies it used and found
// missing, the files it read, its scratch and its loops. Executions are
// pooled; begin and result reset what belongs to a single run, while the
// clone and the query cache survive to the next one.
type execution struct {
	t    *Template
	tmpl *template.Template // a clone of t.base bound to this execution

	store   Store
	used    []usedDep      // in order of first use
	index   map[string]int // canonical string -> position in used
	files   map[string]struct{}
	reads   map[string]fileRead // files read by this Execute, by path
	fresh   []string            // files answered with "": never read before
	scratch *Scratch
	done    chan struct{} // closed by end: stops loop's senders
	depth   int           // executeTemplate nesting

	queries  map[queryKey]parsedQuery
	out      output
	panicked bool // a panic escaped: do not reuse
}

// named is a dependency with its canonical string, which identifies and
// orders it (consul-template's name for it: both forms of datacenters go by
// catalog.datacenters, see datacentersDep). The string is computed once per
// query string, not per use:
// maps keyed by the (large) Dependency itself would allocate on every
// insert.
type named struct {
	name string
	d    dep.Dependency
}

// usedDep is a dependency the run used, the answer it got, and whether it
// had no data. The answer is kept so that every use within one run sees the
// same data, even if the store's changes while the template executes.
type usedDep struct {
	named
	missing bool
	value   any
	has     bool
}

// queryKey identifies a function's argument string within a kind.
type queryKey struct {
	kind dep.Kind
	s    string
}

// parsedQuery caches an argument's parse, error included.
type parsedQuery struct {
	n   named
	err error
}

// maxQueries bounds the query cache: query strings come from data (service
// names), which may churn for the life of the process.
const maxQueries = 4096

// maxNesting bounds executeTemplate recursion, which text/template does not
// count. consul-template has no bound: each level costs about 9 KB of stack,
// so it dies at about 110,000 levels when the stack reaches Go's 1 GB limit.
// 10,000 levels (90 MB) is far beyond any real template and far from that.
const maxNesting = 10000

func (x *execution) begin(s Store) {
	x.store = s
	x.scratch = nil
	x.depth = 0
}

func (x *execution) end() {
	if x.done != nil {
		close(x.done)
		x.done = nil
	}
	x.store = nil
}

// result collects what the run recorded and clears it for the next run.
func (x *execution) result() *Result {
	r := &Result{}
	if len(x.used) > 0 {
		for _, u := range x.used { // still in order of first use
			if u.missing {
				r.MissingByFirstUse = append(r.MissingByFirstUse, u.d)
			}
		}
		slices.SortFunc(x.used, func(a, b usedDep) int { return cmp.Compare(a.name, b.name) })
		r.Used = make([]dep.Dependency, len(x.used))
		for i, u := range x.used {
			r.Used[i] = u.d
			if u.missing {
				r.Missing = append(r.Missing, u.d)
			}
		}
	}
	if len(x.files) > 0 {
		r.Files = make([]string, 0, len(x.files))
		for f := range x.files {
			r.Files = append(r.Files, f)
		}
		slices.Sort(r.Files)
	}
	clear(x.used) // drop the answers so pooled executions hold no data
	x.used = x.used[:0]
	clear(x.index)
	clear(x.files)
	return r
}

// query parses s with parse, through the cache.
func (x *execution) query(kind dep.Kind, s string, parse func(string) (dep.Dependency, error)) (named, error) {
	k := queryKey{kind, s}
	if q, ok := x.queries[k]; ok {
		return q.n, q.err
	}
	if len(x.queries) >= maxQueries {
		clear(x.queries)
	}
	d, err := parse(s)
	q := parsedQuery{err: err}
	if err == nil {
		q.n = named{d.String(), d}
	}
	x.queries[k] = q
	return q.n, err
}

// recall records n as used and returns its data; without data n is also
// recorded as missing.
func (x *execution) recall(n named) (any, bool) {
	if i, seen := x.index[n.name]; seen {
		return x.used[i].value, x.used[i].has
	}
	i := len(x.used)
	x.index[n.name] = i
	x.used = append(x.used, usedDep{named: n, missing: true})
	v, ok := x.store.Recall(n.d)
	x.used[i].value, x.used[i].has, x.used[i].missing = v, ok, !ok
	if !ok {
		x.out.drop()
	}
	return v, ok
}

// has reports whether the store answers d, without recording a use.
func (x *execution) has(d dep.Dependency) bool {
	_, ok := x.store.Recall(d)
	return ok
}

// miss records a used dependency as missing although it has data: a key
// that does not exist yet, an empty safeLs.
func (x *execution) miss(n named) {
	if i, ok := x.index[n.name]; ok {
		x.used[i].missing = true
		x.out.drop()
	}
}

// fixed names a dependency that takes no argument string (caRoots),
// through the same cache.
func (x *execution) fixed(d dep.Dependency) named {
	n, _ := x.query(d.Kind, "", func(string) (dep.Dependency, error) { return d, nil })
	return n
}

// answer asserts the type of a Store's answer: a wrong type is an error
// naming the dependency, never a panic.
func answer[T any](n named, v any) (T, error) {
	t, ok := v.(T)
	if !ok {
		return t, fmt.Errorf("%s: answer of type %T, want %T", n.name, v, t)
	}
	return t, nil
}

// funcs are the functions bound to this execution.
func (x *execution) funcs() template.FuncMap {
	return template.FuncMap{
		"caLeaf":          x.caLeaf,
		"caRoots":         x.caRoots,
		"peerings":        x.peerings,
		"connect":         x.healthFunc(dep.KindHealthConnect),
		"datacenters":     x.datacenters,
		"executeTemplate": x.executeTemplate,
		"file":            x.file,
		"key":             x.key,
		"keyExists":       x.keyExists,
		"keyOrDefault":    x.keyOrDefault,
		"loop":            x.loop,
		"ls":              x.kvFunc(lsFilter, true),
		"node":            x.node,
		"nodes":           x.nodes,
		"safeLs":          x.kvFunc(lsFilter, false),
		"safeTree":        x.kvFunc(treeFilter, false),
		"scratch":         x.scratchpad,
		"service":         x.healthFunc(dep.KindHealthService),
		"services":        x.services,
		"tree":            x.kvFunc(treeFilter, true),
	}
}
