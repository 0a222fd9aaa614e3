package config

import (
	"path/filepath"
	"reflect"
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
		"sub/nested.hcl": `this is not read`,
	})
	c := mustLoad(t, []string{dir}, Overrides{})
	want := []string{filepath.Join(dir, "10-a.hcl"), filepath.Join(dir, "20-b.hcl")}
	if !reflect.DeepEqual(c.Files, want) || c.LogLevel != "warn" || jobNames(c) != "a b" {
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
	dir := writeFiles(t, map[string]string{"a.hcl": aJob, "empty/README": "x"})
	a := filepath.Join(dir, "a.hcl")
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{[]string{a, a}, "Configuration given twice"},
		{[]string{a, filepath.Join(dir, "empty")}, "Empty configuration directory"},
		{[]string{a, filepath.Join(dir, "missing.hcl")}, "Cannot read configuration"},
	} {
		if _, got := loadError(t, tc.paths, Overrides{}); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.paths, got, tc.want)
		}
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
// enabled = false; an empty block changes nothing.
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
