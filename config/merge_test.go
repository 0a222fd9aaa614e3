package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMergeTwoFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.hcl": `
log_level = "debug"
wait { 
  min = "1s"
  max = "2s"
}
consul {
  address = "a:8500"
  token   = "a-token"
  ssl { ca_cert = "/a/ca.pem" }
}
template "one" {
  contents    = "1"
  destination = "/tmp/one"
}`,
		"b.hcl": `
log_level = "warn"
wait      = "5s"
consul {
  token = "b-token"
  tls { server_name = "b.consul" }
}
registrator "two" {}
template "three" {
  contents    = "3"
  destination = "/tmp/three"
}`,
	})
	a, b := filepath.Join(dir, "a.hcl"), filepath.Join(dir, "b.hcl")
	c := mustLoad(t, []string{a, b}, Overrides{})
	if c.LogLevel != "warn" || c.Consul.Address != "a:8500" || c.Consul.Token != "b-token" {
		t.Errorf("later file wins key by key: %s %+v", c.LogLevel, c.Consul)
	}
	if want := (TLS{Enabled: true, CAFile: "/a/ca.pem", ServerName: "b.consul"}); c.Consul.TLS != want {
		t.Errorf("ssl in one file and tls in the next merge: %+v", c.Consul.TLS)
	}
	if want := (Wait{5 * time.Second, 20 * time.Second}); c.Wait != want {
		t.Errorf("wait = %v, want the later file's whole wait %v", c.Wait, want)
	}
	if got := jobNames(c); got != "one three two" {
		t.Errorf("jobs = %q", got)
	}
	if !reflect.DeepEqual(c.Files, []string{a, b}) {
		t.Errorf("files = %v", c.Files)
	}

	c = mustLoad(t, []string{b, a}, Overrides{})
	if c.LogLevel != "debug" || c.Consul.Token != "a-token" || c.Wait != (Wait{time.Second, 2 * time.Second}) {
		t.Errorf("reversed order: %s %+v %v", c.LogLevel, c.Consul, c.Wait)
	}
}

func jobNames(c *Config) string {
	var n []string
	for _, t := range c.Templates {
		n = append(n, t.Name)
	}
	for _, r := range c.Registrators {
		n = append(n, r.Name)
	}
	return strings.Join(n, " ")
}

func TestMergeDirectory(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"20-b.hcl":       `log_level = "warn"` + "\n" + "template \"b\" {\n contents = \"b\"\n destination = \"/tmp/b\"\n}",
		"10-a.hcl":       `log_level = "debug"` + "\n" + "template \"a\" {\n contents = \"a\"\n destination = \"/tmp/a\"\n}",
		"README.md":      "not configuration",
		"web.ctmpl":      "{{ not configuration }}",
		"sub/nested.hcl": `log_level = "error"`,
	})
	c := mustLoad(t, []string{dir}, Overrides{})
	want := []string{filepath.Join(dir, "10-a.hcl"), filepath.Join(dir, "20-b.hcl"), filepath.Join(dir, "sub/nested.hcl")}
	if !reflect.DeepEqual(c.Files, want) || c.LogLevel != "error" || jobNames(c) != "a b" {
		t.Errorf("files %v, log_level %s, jobs %q", c.Files, c.LogLevel, jobNames(c))
	}
}

func TestMergeDuplicateNames(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.hcl": aJob,
		"b.hcl": "\n\nregistrator \"job\" {}\n",
	})
	cerr, got := loadError(t, []string{dir}, Overrides{})
	if got != "Duplicate job name" {
		t.Fatalf("errors: %s", got)
	}
	d := cerr.Diagnostics[0]
	first := filepath.Join(dir, "a.hcl") + ":2:1"
	if pos(*d.Subject) != filepath.Join(dir, "b.hcl")+":3:1" || !strings.Contains(d.Detail, first) {
		t.Errorf("diagnostic at %s: %s; want it at b.hcl:3:1 naming %s", pos(*d.Subject), d.Detail, first)
	}
}

func TestMergeErrors(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.hcl": aJob, "empty/.keep": "x"})
	a := filepath.Join(dir, "a.hcl")
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{a, filepath.Join(dir, "empty")}, "Empty configuration directory"},
		{[]string{a, filepath.Join(dir, "missing.hcl")}, "Cannot read configuration"},
	} {
		if _, got := loadError(t, tc.paths, Overrides{}); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.paths, got, tc.want)
		}
	}
}

// TestLinksAndFilesGivenTwice: a directory's links to files are read, as
// consul-template reads them, and a file given twice (the directory and a
// file in it) is read once, with a warning.
func TestLinksAndFilesGivenTwice(t *testing.T) {
	real := writeFiles(t, map[string]string{"linked.hcl": strings.ReplaceAll(aJob, "job", "linked")})
	dir := writeFiles(t, map[string]string{"a.hcl": aJob})
	if err := os.Symlink(filepath.Join(real, "linked.hcl"), filepath.Join(dir, "linked.hcl")); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, []string{dir, filepath.Join(dir, "a.hcl")}, Overrides{})
	if len(c.Templates) != 2 {
		t.Errorf("%d jobs, want job and linked", len(c.Templates))
	}
	if len(c.Warnings) != 1 || c.Warnings[0].Summary != "Configuration given twice" {
		t.Errorf("warnings %v, want one: given twice", c.Warnings)
	}
}

// TestErrorsFromSeveralFiles checks that a broken file does not hide the
// problems of the others.
func TestErrorsFromSeveralFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.hcl": "template \"x\" {",
		"b.hcl": aJob + "log_level = \"loud\"\n",
	})
	_, got := loadError(t, []string{dir}, Overrides{})
	if got != "Unclosed configuration block; Invalid log_level" {
		t.Errorf("errors: %s", got)
	}
}

// TestAnyKeyEnables checks consul-template's rule for tls (ssl), dedup
// (deduplicate) and auth: any key set turns the feature on unless
// enabled = false; an empty block, an empty string and a zero duration
// change nothing.
func TestAnyKeyEnables(t *testing.T) {
	for _, tc := range []struct {
		hcl  string
		want [3]bool // tls, dedup, auth
	}{
		{`consul {
  tls {}
  auth {}
}
dedup {}`, [3]bool{}},
		{`consul {
  ssl { verify = true }
  auth { username = "u" }
}
deduplicate { ttl = "20s" }`, [3]bool{true, true, true}},
		{`consul {
  tls {
    ca_file = "/ca.pem"
    enabled = false
  }
  auth {
    password = "p"
    enabled  = false
  }
}
dedup {
  prefix  = "p/"
  enabled = false
}`, [3]bool{}},
		{`consul {
  tls { enabled = true }
}
dedup { enabled = true }`, [3]bool{true, true, false}},
		// An empty string or a zero duration is no setting.
		{`consul {
  ssl {
    cert    = ""
    key     = ""
    ca_cert = ""
  }
}
deduplicate {
  prefix    = ""
  max_stale = "0s"
}`, [3]bool{}},
	} {
		c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": aJob + tc.hcl})}, Overrides{})
		got := [3]bool{c.Consul.TLS.Enabled, c.Dedup.Enabled, c.Consul.Auth.Enabled}
		if got != tc.want {
			t.Errorf("%s\n: tls, dedup, auth = %v, want %v", tc.hcl, got, tc.want)
		}
		if !c.Consul.Auth.Enabled && c.Consul.Auth != (Auth{}) {
			t.Errorf("disabled auth keeps credentials: %+v", c.Consul.Auth)
		}
	}
}

// TestConfigurationDirectoryTree: a directory contributes every file in its
// tree that is named *.hcl, *.conf or *.json, in lexical order; hidden
// names are skipped.
func TestConfigurationDirectoryTree(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"10-base.hcl":      "log_level = \"warn\"\n",
		"20-web.conf":      "template {\n  contents = \"a\"\n  destination = \"/tmp/web\"\n}\n",
		"sub/30-api.hcl":   "template {\n  contents = \"b\"\n  destination = \"/tmp/api\"\n}\nlog_level = \"error\"\n",
		".20-web.conf.swp": "\x00 not a configuration",
		".git/config.hcl":  "[core]",
		"templates/a.tmpl": "{{ key \"k\" }}",
	})
	c := mustLoad(t, []string{dir}, Overrides{})
	if len(c.Templates) != 2 || c.LogLevel != "error" || len(c.Files) != 3 {
		t.Fatalf("templates %d, log level %q, files %v", len(c.Templates), c.LogLevel, c.Files)
	}
	json := writeFiles(t, map[string]string{"ct.json": `{"consul": {"address": "127.0.0.1:9"}}`,
		"x.conf": "\n  {\"template\": [{\"contents\": \"j\", \"destination\": \"/tmp/j\"}]}"})
	c = mustLoad(t, []string{json}, Overrides{})
	if len(c.Templates) != 1 || c.Consul.Address != "127.0.0.1:9" {
		t.Errorf("JSON files (by name, or starting with {): templates %d, consul %+v", len(c.Templates), c.Consul)
	}
}

// TestDirectoryFilesLeftOut: consul-template reads every file of a
// configuration directory, drcon its *.hcl, *.conf and *.json files. A file
// left out that no template uses (haproxy.cfg or settings with no extension,
// as consul-template setups name them) is warned of, not dropped in
// silence; a directory of such files only is refused, naming them. A file
// that does not parse as configuration (a script, a token, a file a
// template reads) would have stopped consul-template: it is not warned of.
func TestDirectoryFilesLeftOut(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"jobs.hcl":           "template \"web\" {\n  source = \"tmpl/web.ctmpl\"\n  destination = \"out/web.conf\"\n  command = \"./reload.sh\"\n}\nconsul { token_file = \"token\" }\n",
		"tmpl/web.ctmpl":     "{{ key \"web\" }}{{ file \"tmpl/upstreams.txt\" }}",
		"tmpl/upstreams.txt": "10.0.0.1:80\n",
		"reload.sh":          "#!/bin/sh\nnginx -s reload\n",
		"token":              "3f2a9c1e-77b0-4d1e-9c55-0c9e1b7e2f41\n",
		"consul.cfg":         "consul = \"127.0.0.1:8500\"\n",
		"settings":           "log_level = \"warn\"\n",
	})
	other := writeFiles(t, map[string]string{"only-cfg/a.cfg": aJob, "only-cfg/b.cfg": aJob, "only-cfg/.hidden.sw": "x"})
	t.Chdir(dir)
	c := mustLoad(t, []string{"."}, Overrides{})
	var got []string
	for _, w := range c.Warnings {
		if w.Summary == "File not read" {
			got = append(got, strings.Fields(w.Detail)[0])
		}
	}
	if want := []string{"consul.cfg", "settings"}; !reflect.DeepEqual(got, want) {
		t.Errorf("warned of %v, want %v (not of the template's own source, nor of files that are no configuration)", got, want)
	}
	t.Chdir(other)
	cerr, summary := loadError(t, []string{"only-cfg"}, Overrides{})
	if d := cerr.Diagnostics[0].Detail; summary != "Empty configuration directory" || !strings.Contains(d, "only-cfg/a.cfg, only-cfg/b.cfg") || strings.Contains(d, "hidden") {
		t.Errorf("a directory of *.cfg files: %s: %s", summary, d)
	}
}

// TestConsulTemplateRelativeSource: consul-template reads a relative source
// from the working directory, drcon from the configuration file's: an
// unlabeled template {} takes the working directory's file when only that
// one exists, and warns when both exist and differ.
func TestConsulTemplateRelativeSource(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"tmpl/x.ctmpl":      "from the working directory",
		"conf/ct.hcl":       "template {\n  source = \"tmpl/x.ctmpl\"\n  destination = \"/tmp/x\"\n}\n",
		"both/ct.hcl":       "template {\n  source = \"tmpl/x.ctmpl\"\n  destination = \"/tmp/x\"\n}\n",
		"both/tmpl/x.ctmpl": "beside the configuration",
		"labeled/ct.hcl":    "template \"x\" {\n  source = \"tmpl/x.ctmpl\"\n  destination = \"/tmp/x\"\n}\n",
	})
	t.Chdir(dir)
	c := mustLoad(t, []string{"conf/ct.hcl"}, Overrides{})
	if c.Templates[0].Text != "from the working directory" || len(c.Warnings) != 0 {
		t.Errorf("only in the working directory: %q, warnings %v", c.Templates[0].Text, c.Warnings)
	}
	c = mustLoad(t, []string{"both/ct.hcl"}, Overrides{})
	if c.Templates[0].Text != "beside the configuration" || len(c.Warnings) != 1 || c.Warnings[0].Summary != "Ambiguous template source" {
		t.Errorf("in both: %q, warnings %v", c.Templates[0].Text, c.Warnings)
	}
	if _, got := loadError(t, []string{"labeled/ct.hcl"}, Overrides{}); got != "Cannot read template source" {
		t.Errorf("a labeled block reads beside its configuration only: %q", got)
	}
}

// TestConsulTemplateSyntaxHints: what consul-template read and drcon does
// not (HCL 1's literals and block forms) is refused with what to write
// instead.
func TestConsulTemplateSyntaxHints(t *testing.T) {
	for _, tc := range []struct{ file, summary, detail string }{
		{"template \"x\" {\n  destination = \"/tmp/x\"\n  contents = \"x\"\n  command = \"echo ${PWD}\"\n}\n", "Variables not allowed", "write $${"},
		{"template \"x\" {\n  destination = \"/tmp/x\"\n  contents = <<EOT\nlog-format \"%{+Q}o\"\nEOT\n}\n", "Invalid template directive", "%%{"},
		// HCL 1's forms that rewriteHCL1 takes load (hcl1_test.go); a name
		// that is no name is not one of them.
		{aJob + "consul = {\n  \"the address\" = \"a:1\"\n}\n", "Block written as an argument", "consul { ... }"},
	} {
		dir := writeFiles(t, map[string]string{"a.hcl": tc.file})
		cerr, got := loadError(t, []string{dir}, Overrides{})
		if got != tc.summary || !strings.Contains(cerr.Diagnostics[0].Detail, tc.detail) {
			t.Errorf("%q: %s: %s", tc.file, got, cerr.Diagnostics[0].Detail)
		}
	}
}

// TestStringForList: a string given for a list of strings is split at its
// commas, as consul-template's loader splits it.
func TestStringForList(t *testing.T) {
	c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": `template {
  contents          = "x"
  destination       = "/tmp/x"
  function_denylist = "plugin,sprig_*"
  exec {
    command = "true"
    env {
      custom    = "A=1,B=2"
      allowlist = ""
    }
  }
}
`})}, Overrides{})
	tp := c.Templates[0]
	if !slices.Equal(tp.FunctionDenylist, []string{"plugin", "sprig_*"}) || !slices.Equal(tp.CommandEnv.Custom, []string{"A=1", "B=2"}) ||
		len(tp.CommandEnv.Allowlist) != 0 {
		t.Errorf("denylist %q, custom %q, allowlist %q", tp.FunctionDenylist, tp.CommandEnv.Custom, tp.CommandEnv.Allowlist)
	}
}

// TestSettingGivenTwice: a setting given under two of consul-template's
// names loads as there, with a warning: old and new lists are joined,
// exec.command wins over command, user over uid.
func TestSettingGivenTwice(t *testing.T) {
	c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": `template {
  contents           = "x"
  destination        = "/tmp/x"
  user               = "root"
  uid                = 33
  function_denylist  = ["plugin"]
  function_blacklist = ["sprig_*"]
  command            = "true"
  exec {
    command = "false"
    env {
      allowlist = ["A"]
      whitelist = ["B"]
    }
  }
}
`})}, Overrides{})
	tp := c.Templates[0]
	if tp.User != "root" || tp.Command.Shell != "false" || !slices.Equal(tp.FunctionDenylist, []string{"plugin", "sprig_*"}) ||
		!slices.Equal(tp.CommandEnv.Allowlist, []string{"A", "B"}) {
		t.Errorf("user %q, command %+v, denylist %q, allowlist %q", tp.User, tp.Command, tp.FunctionDenylist, tp.CommandEnv.Allowlist)
	}
	if len(c.Warnings) != 4 {
		t.Errorf("warnings: %v", c.Warnings)
	}
}

// TestWaitBlockSwitch: consul-template's wait block switch, spelled bool.
func TestWaitBlockSwitch(t *testing.T) {
	c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": aJob + `wait {
  min  = "1s"
  bool = false
}
`})}, Overrides{})
	if c.Wait != (Wait{}) {
		t.Errorf("wait %+v, want none", c.Wait)
	}
}

// TestRegistratorOverlap: two blocks on one engine whose filters a
// container can match both are warned about; exclusive filters are not.
func TestRegistratorOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		warn bool
	}{
		{``, ``, true},
		{`filter = { team = "a" }`, ``, true},
		{`filter = { team = "a" }`, `filter = { team = "" }`, true},
		{`filter = { team = "a" }`, `filter = { env = "prod" }`, true},
		{`filter = { team = "a" }`, `filter = { team = "b" }`, false},
		{``, `docker_host = "tcp://127.0.0.1:2375"`, false},
	} {
		c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": fmt.Sprintf("registrator \"a\" {\n  %s\n}\nregistrator \"b\" {\n  %s\n}\n", tc.a, tc.b)})}, Overrides{})
		got := len(c.Warnings) == 1 && c.Warnings[0].Summary == "Registrator blocks overlap"
		if got != tc.warn || len(c.Warnings) > 1 {
			t.Errorf("%q / %q: warnings %v, want overlap warned: %v", tc.a, tc.b, c.Warnings, tc.warn)
		}
	}
}
