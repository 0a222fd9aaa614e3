// Package template is drcon's template language: consul-template's language
// (Go text/template and its function map) with byte-identical output. It is
// pure: executing a template reads dependency data from a Store and records
// which dependencies it used and which had no data yet; it never calls Consul.
// (The file, plugin, writeToFile, sockaddr and spew_* functions touch the
// machine, as they do in consul-template.)
//
// A template is parsed once. Each execution runs on a clone of the parsed
// template whose stateful functions are closures over that execution, so
// concurrent executions share nothing mutable; clones are pooled, which keeps
// the cost of binding functions out of the render path.
package template

import (
	"fmt"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/drcon/drcon/template/dep"
)

// Options shape how a template is parsed and executed.
type Options struct {
	// Name identifies the template in errors: its source file, or the job.
	Name string
	// LeftDelim and RightDelim replace {{ and }} when set.
	LeftDelim, RightDelim string
	// ErrOnMissingKey makes a missing map key an error instead of the
	// zero value.
	ErrOnMissingKey bool
	// FunctionDenylist lists glob patterns ("*" only) of functions that must
	// not run: calling one fails with "function is disabled".
	FunctionDenylist []string
	// SandboxPath, when set, confines the file function to that directory.
	SandboxPath string
	// Env is looked up before the process environment by env, mustEnv and
	// envOrDefault ("NAME=value" entries, first one wins), as consul-template
	// adds CONSUL_HTTP_ADDR and friends.
	Env []string

	// now is the clock of timestamp; tests fix it.
	now func() time.Time
}

// Store is where a template finds the data of its dependencies.
type Store interface {
	// Recall returns the latest answer to d and whether there is one.
	Recall(d dep.Dependency) (any, bool)
}

// Template is a parsed template, safe to Execute from several goroutines.
type Template struct {
	opts   Options
	env    []envEntry
	denied map[string]bool
	used   map[string]bool // functions the template calls
	base   *template.Template
	pool   sync.Pool // of *execution, each with its own clone of base

	// files holds, by trimmed path, what each file the file function has
	// answered held when it was read (filecache.go).
	filesMu sync.Mutex
	files   map[string]fileRead
}

// Result is the outcome of one execution.
type Result struct {
	// Output is the rendered text; meaningful only when Complete.
	Output []byte
	// Used lists every dependency the execution asked for, sorted by their
	// canonical string, each once.
	Used []dep.Dependency
	// Missing lists the used dependencies that had no data yet, sorted.
	Missing []dep.Dependency
	// MissingByFirstUse is Missing in the order the execution first used
	// them, which is the order consul-template starts their queries in.
	MissingByFirstUse []dep.Dependency
	// Files lists the paths read by the file function, sorted, each once.
	Files []string
}

// Complete reports whether every dependency had data, so Output may be written.
func (r *Result) Complete() bool { return len(r.Missing) == 0 }

// Parse parses text. Errors name Options.Name and the line. A template that
// calls a consul-template function drcon does not support (Vault, Nomad,
// partitions, exported services) is refused here, not when it runs.
func Parse(text string, o Options) (*Template, error) {
	env, err := parseEnv(o.Env)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", o.Name, err)
	}
	if o.now == nil {
		o.now = time.Now
	}
	t := &Template{opts: o, env: env}
	all := append(FuncNames(), unsupportedNames()...)
	t.denied = denylist(o.FunctionDenylist, all)

	funcs := template.FuncMap{}
	for name, fn := range helpers {
		funcs[name] = fn
	}
	for name, fn := range t.templateFuncs() {
		funcs[name] = fn
	}
	// Stand-ins with the right signatures, so that parsing checks names and
	// arity; each execution binds its own.
	for name, fn := range (&execution{t: t}).funcs() {
		funcs[name] = fn
	}
	for name, fn := range unsupportedFuncs() {
		funcs[name] = fn
	}
	for name := range t.denied {
		funcs[name] = disabled
	}
	full, err := t.parse(text, funcs)
	if err != nil {
		return nil, err
	}
	if err := refuseUnsupported(full, t.denied); err != nil {
		return nil, t.named(err)
	}
	// Parse again with only the functions the template calls: text/template
	// copies its function maps into every clone, and each pooled execution
	// is a clone, so the ~300 functions of the language would cost every
	// template tens of kilobytes per execution for nothing.
	t.used = calledFuncs(full)
	for name := range funcs {
		if !t.used[name] {
			delete(funcs, name)
		}
	}
	if t.base, err = t.parse(text, funcs); err != nil {
		return nil, err
	}
	return t, nil
}

// parse parses text with funcs and the template's options. The main
// template is named "", as in consul-template, where a template can call
// itself, or replace its body with a define, by that name.
func (t *Template) parse(text string, funcs template.FuncMap) (*template.Template, error) {
	b := template.New("").Delims(t.opts.LeftDelim, t.opts.RightDelim)
	if t.opts.ErrOnMissingKey {
		b.Option("missingkey=error")
	} else {
		// consul-template's choice: a missing key of a map[string]string is "".
		b.Option("missingkey=zero")
	}
	tt, err := b.Funcs(funcs).Parse(text)
	if err != nil {
		return nil, t.named(err)
	}
	return tt, nil
}

// named puts Options.Name where text/template's errors name the main
// template, "": "template: :3:5: executing \"\" at" becomes
// "template: NAME:3:5: executing \"NAME\" at", and "unclosed action
// started at :1" becomes "... started at NAME:1".
func (t *Template) named(err error) error {
	msg := err.Error()
	fixed := strings.ReplaceAll(msg, "template: :", "template: "+t.opts.Name+":")
	fixed = strings.ReplaceAll(fixed, `executing "" at`, `executing "`+t.opts.Name+`" at`)
	fixed = strings.ReplaceAll(fixed, " started at :", " started at "+t.opts.Name+":")
	if fixed == msg {
		return err
	}
	return &namedError{msg: fixed, err: err}
}

// namedError is an error of text/template with the template's name put in.
type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// Name is the template's name, as given in Options.
func (t *Template) Name() string { return t.opts.Name }

// Execute renders the template against s. On an error the Result still
// lists what the execution used and found missing before it failed, so that
// a caller can keep watching them; its Output is nil.
//
// Every use of a file within one Execute sees the same contents. A pass
// that asks for a file the template never read gets "" for it, as
// consul-template's first pass: if that pass fails, so does the render;
// else the new files are read and the pass runs again, until no pass asks
// for a new file. Later Executes see what was read then, until RereadFiles,
// or until a pass that does not use the file: the next use reads it afresh.
func (t *Template) Execute(s Store) (*Result, error) {
	var reads map[string]fileRead // nil unless the template calls file
	if t.used["file"] {
		reads = map[string]fileRead{}
	}
	for pass := 1; ; pass++ {
		res, fresh, err := t.execute(s, reads)
		// Read even when the pass failed: consul-template would have
		// exited; a daemon job renders again at the next change, and then
		// has the file.
		t.readNew(fresh)
		if err != nil {
			return res, t.named(err)
		}
		if reads != nil {
			t.forget(res.Files, reads)
		}
		if len(fresh) == 0 {
			return res, nil
		}
		if pass == maxFilePasses {
			return res, fmt.Errorf("template %s: still reading new files after %d passes", t.opts.Name, pass)
		}
		for _, f := range fresh {
			if _, ok := reads[f]; !ok {
				reads[f], _ = t.cachedFile(f)
			}
		}
	}
}

// maxFilePasses bounds the passes of one Execute that each read new files
// (a path built from the clock would never settle).
const maxFilePasses = 100

// execute runs one pass with the files read so far in reads, which it adds
// to; fresh lists the files it answered with "" because the template never
// read them.
func (t *Template) execute(s Store, reads map[string]fileRead) (res *Result, fresh []string, err error) {
	x, _ := t.pool.Get().(*execution)
	if x == nil {
		if x, err = t.newExecution(); err != nil {
			return nil, nil, err
		}
	}
	x.reads = reads
	out, err := x.run(s)
	fresh = x.fresh
	x.fresh, x.reads = nil, nil
	res = x.result()
	if x.panicked {
		// Its state is unknown: let it go rather than reuse it.
		return res, fresh, err
	}
	t.pool.Put(x)
	if err != nil {
		return res, fresh, err
	}
	res.Output = out
	return res, fresh, nil
}

// envEntry is one NAME=value of Options.Env.
type envEntry struct{ name, value string }

func parseEnv(env []string) ([]envEntry, error) {
	out := make([]envEntry, 0, len(env))
	for _, e := range env {
		name, value, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("environment entry %q is not NAME=value", e)
		}
		out = append(out, envEntry{name, value})
	}
	return out, nil
}

// newExecution clones the parsed template and binds the stateful functions
// to a new execution.
func (t *Template) newExecution() (*execution, error) {
	c, err := t.base.Clone()
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", t.opts.Name, err)
	}
	x := &execution{
		t:       t,
		tmpl:    c,
		index:   map[string]int{},
		files:   map[string]struct{}{},
		queries: map[queryKey]parsedQuery{},
	}
	funcs := x.funcs()
	for name := range funcs {
		if t.denied[name] || !t.used[name] {
			delete(funcs, name)
		}
	}
	c.Funcs(funcs)
	return x, nil
}

// run executes the clone against s. A panic that escapes text/template (it
// recovers those of functions it calls) becomes an error.
func (x *execution) run(s Store) (out []byte, err error) {
	x.begin(s)
	defer x.end()
	defer func() {
		if r := recover(); r != nil {
			x.panicked = true
			err = fmt.Errorf("template: %s: internal error: %v", x.t.opts.Name, r)
		}
	}()
	if err := x.tmpl.Execute(&x.out, nil); err != nil {
		x.out.reset()
		return nil, err
	}
	return x.out.take(), nil
}
