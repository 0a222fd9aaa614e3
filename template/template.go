// Package template is drcon's template language: consul-template's language
// (Go text/template and its function map) with byte-identical output. It is
// pure: executing a template reads dependency data from a Store and records
// which dependencies it used and which had no data yet; it never calls Consul.
package template

import (
	"bytes"
	"fmt"
	"text/template"

	"github.com/drcon/drcon/template/dep"
)

// Options shape how a template is parsed and executed.
type Options struct {
	// Name identifies the template in errors: its source file, or the job.
	Name string
	// LeftDelim and RightDelim replace {{ and }} when set.
	LeftDelim, RightDelim string
	// ErrOnMissingKey makes a missing map key an error instead of "<no value>".
	ErrOnMissingKey bool
	// FunctionDenylist lists glob patterns of functions that must not run.
	FunctionDenylist []string
	// SandboxPath, when set, confines the file function to that directory.
	SandboxPath string
	// Env is added before the process environment for env, mustEnv and
	// envOrDefault ("NAME=value" entries), as consul-template adds
	// CONSUL_HTTP_ADDR and friends.
	Env []string
}

// Store is where a template finds the data of its dependencies.
type Store interface {
	// Recall returns the latest answer to d and whether there is one.
	Recall(d dep.Dependency) (any, bool)
}

// Template is a parsed template, safe to Execute from several goroutines.
type Template struct {
	opts Options
	text string
	tmpl *template.Template
}

// Result is the outcome of one execution.
type Result struct {
	// Output is the rendered text; meaningful only when Complete.
	Output []byte
	// Used lists every dependency the execution asked for, sorted.
	Used []dep.Dependency
	// Missing lists the used dependencies that had no data yet, sorted.
	Missing []dep.Dependency
	// Files lists the paths read by the file function.
	Files []string
}

// Complete reports whether every dependency had data, so Output may be written.
func (r *Result) Complete() bool { return len(r.Missing) == 0 }

// Parse parses text. Errors name Options.Name and the line.
func Parse(text string, o Options) (*Template, error) {
	t, err := template.New(o.Name).Delims(o.LeftDelim, o.RightDelim).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", o.Name, err)
	}
	return &Template{opts: o, text: text, tmpl: t}, nil
}

// Execute renders the template against s.
func (t *Template) Execute(s Store) (*Result, error) {
	var buf bytes.Buffer
	if err := t.tmpl.Execute(&buf, nil); err != nil {
		return nil, fmt.Errorf("execute template %s: %w", t.opts.Name, err)
	}
	return &Result{Output: buf.Bytes()}, nil
}
