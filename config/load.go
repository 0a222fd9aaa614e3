package config

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads the configuration in paths, merges it with the environment and
// the flags in o, and returns it validated, defaults applied.
//
// Each path is a file or a directory; a directory contributes the *.hcl,
// *.conf and *.json files of its tree in lexical order (expand). Files merge in
// order: a setting given in two files takes the later value (key by key
// inside singleton blocks such as consul {}), while template and registrator
// blocks add up. With no paths, o.Templates alone may define the jobs.
//
// Precedence is environment < file < flag. On any problem Load returns a
// *Error holding every diagnostic found, not just the first.
func Load(paths []string, o Overrides) (*Config, error) {
	l := newLoader(o)
	var srcs []source
	for _, p := range paths {
		srcs = append(srcs, l.expand(p)...)
	}
	return l.load(srcs)
}

// source is one configuration file's name and contents.
type source struct {
	name string
	data []byte
}

// loader holds the state of one Load.
type loader struct {
	decoder
	o     Overrides
	files map[string]*hcl.File
	order map[string]int // file name -> position, for sorting diagnostics
	names []string
	json  map[string]jsonFile // the JSON files, by name
	hcl1  map[string]hcl1File // the files rewriteHCL1 changed, by name
	// tlsEnabledSet: a file said tls { enabled }; then only -consul-ssl
	// changes it.
	tlsEnabledSet bool
	// retryOff: a file said retry { enabled = false }; then only
	// -consul-retry turns retries back on.
	retryOff bool
	// errorFatal is template_error_fatal, the default of every
	// template's error_fatal.
	errorFatal bool
	// failLookups is err_on_failed_lookup, the default of every
	// template's.
	failLookups bool
	// skipped are the files of -config directories left out for their
	// names, which consul-template would have read (warnSkipped).
	skipped []string
}

func newLoader(o Overrides) *loader {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	return &loader{
		decoder: decoder{getenv: getenv, ctxs: map[string]*hcl.EvalContext{}},
		o:       o,
		files:   map[string]*hcl.File{},
		json:    map[string]jsonFile{},
		hcl1:    map[string]hcl1File{},
		order:   map[string]int{},
	}
}

// expand reads path, or if it is a directory the configuration files in
// its tree, in lexical order: *.hcl, and consul-template's *.conf and *.json
// (json.go). consul-template reads every file of the
// tree; drcon leaves out the rest so that templates may live beside the
// configuration, and names the ones left out (warnSkipped), since
// consul-template would have read them. Names that start with "." (swap
// files, .git) are skipped.
func (l *loader) expand(path string) []source {
	fi, err := os.Stat(path)
	if err != nil {
		l.errorNoPos("Cannot read configuration", "%s.", err)
		return nil
	}
	if !fi.IsDir() {
		return l.read(path)
	}
	var srcs []source
	var skipped []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p != path && strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
		case !isFile(p, d):
		case slices.Contains(configExts, filepath.Ext(p)):
			srcs = append(srcs, l.read(p)...)
		default:
			skipped = append(skipped, p)
		}
		return nil
	})
	switch {
	case err != nil:
		l.errorNoPos("Cannot read configuration directory", "%s.", err)
	case len(srcs) == 0 && len(skipped) > 0:
		l.errorNoPos("Empty configuration directory", "%s has no *.hcl, *.conf or *.json files; drcon reads only those in a directory, and leaves out %s, which consul-template would read as configuration. Rename them to *.hcl, or give each with its own -config.", path, strings.Join(skipped, ", "))
	case len(srcs) == 0:
		l.errorNoPos("Empty configuration directory", "%s has no *.hcl, *.conf or *.json files.", path)
	default:
		l.skipped = append(l.skipped, skipped...)
	}
	return srcs
}

// configExts are the names of the files a configuration directory
// contributes.
var configExts = []string{".hcl", ".conf", ".json"}

// isFile: d is a regular file, or a link to one (configuration management
// often links files into a directory; consul-template reads them).
func isFile(p string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink == 0 {
		return d.Type().IsRegular()
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func (l *loader) read(path string) []source {
	b, err := readFile(path)
	if err != nil {
		l.errorNoPos("Cannot read configuration", "%s.", err)
		return nil
	}
	return []source{{name: path, data: b}}
}

// load parses, merges and resolves srcs; it is Load after reading files.
func (l *loader) load(srcs []source) (*Config, error) {
	if len(srcs) == 0 && len(l.o.Templates) == 0 && l.o.Exec.Command == "" && !l.diags.HasErrors() {
		l.errorNoPos("No configuration", "Give a configuration file or directory with -config, a template with -template \"src:dest[:command]\", or a child process with -exec.")
	}
	merged := &rawFile{}
	for _, s := range srcs {
		// A file given twice (a directory and a file in it, say) is read
		// once: consul-template merged it with itself, which changes nothing.
		if _, dup := l.files[s.name]; dup {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning,
				Summary: "Configuration given twice", Detail: s.name + " is given more than once; it is read once."})
			continue
		}
		if raw := l.parse(s); raw != nil {
			mergeFile(merged, raw)
		}
	}
	c := l.resolve(merged)
	l.warnSkipped(c)
	l.placeAll(c)
	sortDiagnostics(l.diags, l.order)
	if l.diags.HasErrors() {
		return nil, &Error{Diagnostics: l.diags, Files: l.files}
	}
	c.Warnings = l.diags // no errors: only warnings are left
	c.Files = l.names
	c.files = l.files
	return c, nil
}

// warnSkipped warns of each file that a configuration directory left out,
// that parses as configuration and that no template uses as its source (or
// writes): consul-template would have read it as configuration, and its
// settings and jobs would be missing without a word.
func (l *loader) warnSkipped(c *Config) {
	used := map[string]bool{}
	for _, t := range c.Templates {
		for _, p := range []string{t.Source, t.Destination, t.Destination + ".bak"} {
			if p != "" {
				used[absPath(p)] = true
			}
		}
	}
	for _, p := range l.skipped {
		if !used[absPath(p)] && parses(p) {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "File not read",
				Detail: fmt.Sprintf("%s is not read: in a directory drcon reads *.hcl, *.conf and *.json files only, and no template uses it, where consul-template would read it as configuration. Rename it to *.hcl if it is one, or give it with its own -config.", p)})
		}
	}
}

// parses reports whether the file at p is HCL or JSON that parses. A file
// that does not (a script, a token, a certificate, a file a template reads
// with file) would have stopped consul-template, which reads every file of
// the directory: it is none of its configuration.
func parses(p string) bool {
	b, err := readFile(p)
	if err != nil {
		return false
	}
	if isJSON(source{name: p, data: b}) {
		_, _, err := jsonToHCL(b)
		return err == nil
	}
	b, _, _ = rewriteHCL1(b, p)
	_, diags := hclsyntax.ParseConfig(b, p, hcl.InitialPos)
	return !diags.HasErrors()
}

// absPath is p made absolute, for comparing paths given in different forms;
// p itself if that fails.
func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// parse decodes one file into its raw form; nil when it does not parse.
func (l *loader) parse(s source) *rawFile {
	if isJSON(s) {
		data, lines, err := jsonToHCL(s.data)
		if err != nil {
			l.errorNoPos("Invalid JSON configuration", "%s: %s.", s.name, err)
			return nil
		}
		l.json[s.name] = jsonFile{src: s.data, lines: lines}
		s.data = data
	} else if data, f, changed := rewriteHCL1(s.data, s.name); changed {
		l.hcl1[s.name] = f
		s.data = data
	}
	f, diags := hclsyntax.ParseConfig(s.data, s.name, hcl.InitialPos)
	l.files[s.name] = f
	l.order[s.name] = len(l.names)
	l.names = append(l.names, s.name)
	l.ctxs[s.name] = evalContext(s.name, l.getenv)
	l.diags = append(l.diags, hintLiteral(diags)...)
	body, ok := f.Body.(*hclsyntax.Body)
	if diags.HasErrors() || !ok {
		return nil
	}
	if diags := checkNumbers(body); diags.HasErrors() {
		l.diags = append(l.diags, diags...)
		return nil
	}
	// An unlabeled template block is consul-template's form; gohcl wants a
	// fixed number of labels, so those blocks are decoded on their own.
	rest := *body
	rest.Blocks = nil
	var unlabeled []*hclsyntax.Block
	for _, b := range body.Blocks {
		if b.Type == "template" && len(b.Labels) == 0 {
			unlabeled = append(unlabeled, b)
		} else {
			rest.Blocks = append(rest.Blocks, b)
		}
	}
	raw := &rawFile{}
	l.diags = append(l.diags, gohcl.DecodeBody(&rest, nil, raw)...)
	for _, b := range unlabeled {
		t := &rawTemplate{DefRange: b.DefRange(), Unlabeled: true}
		l.diags = append(l.diags, gohcl.DecodeBody(b.Body, nil, t)...)
		raw.Templates = append(raw.Templates, t)
	}
	sort.SliceStable(raw.Templates, func(i, j int) bool {
		return raw.Templates[i].DefRange.Start.Byte < raw.Templates[j].DefRange.Start.Byte
	})
	l.normalize(raw)
	return raw
}

// place moves r from the text that was parsed to the file as written: a
// JSON file's line (json.go), or a file in HCL 1 forms (hcl1.go).
func (l *loader) place(r *hcl.Range) {
	if r == nil {
		return
	}
	if f, ok := l.json[r.Filename]; ok {
		f.place(r)
	} else if f, ok := l.hcl1[r.Filename]; ok {
		f.place(r)
	}
}

// pos is pos(r) in the file as written.
func (l *loader) pos(r hcl.Range) string {
	l.place(&r)
	return pos(r)
}

// placeAll puts the diagnostics and the jobs of c on the files as written,
// and the files' own text where snippets are taken from.
func (l *loader) placeAll(c *Config) {
	for _, d := range l.diags {
		l.place(d.Subject)
		l.place(d.Context)
	}
	if c != nil {
		for _, t := range c.Templates {
			l.place(&t.DeclRange)
		}
		for _, r := range c.Registrators {
			l.place(&r.DeclRange)
		}
	}
	for name, f := range l.json {
		l.files[name] = &hcl.File{Bytes: f.src}
	}
	for name, f := range l.hcl1 {
		l.files[name] = &hcl.File{Bytes: f.src}
	}
}

// isJSON reports whether a configuration file is JSON (json.go): whether
// it starts with "{" or "[", as no HCL configuration does, whatever its
// name. consul-template tells them apart by content too, so a config.json
// written in HCL (puppet's consul_template module makes them) loads in both.
func isJSON(s source) bool {
	t := bytes.TrimLeft(s.data, " \t\r\n\ufeff")
	return bytes.HasPrefix(t, []byte("{")) || bytes.HasPrefix(t, []byte("["))
}
