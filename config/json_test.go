package config

import (
	"strings"
	"testing"
)

// TestJSONConfiguration: a consul-template JSON configuration loads as the
// same configuration in HCL does, its strings literal and a numeric perms
// decimal, as consul-template reads them.
func TestJSONConfiguration(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"ct.json": `{
  "consul": {
    "address": "127.0.0.1:8500",
    "retry": {"attempts": 3, "backoff": "1s"}
  },
  "wait": "2s:10s",
  "log_level": "warn",
  "template": [
    {
      "contents": "{{ key \"a\" }} ${HOME} %{x} \"q\"\n",
      "destination": "/tmp/a",
      "perms": 420,
      "command": ["echo", "done"],
      "wait": {"min": "1s", "max": "3s"}
    },
    {"contents": "b", "destination": "/tmp/b", "exec": {"command": "true", "env": {"custom": ["A=1"]}}}
  ]
}
`,
		"ct.hcl": `consul {
  address = "127.0.0.1:8500"
  retry {
    attempts = 3
    backoff  = "1s"
  }
}
wait      = "2s:10s"
log_level = "warn"
template {
  contents    = "{{ key \"a\" }} $${HOME} %%{x} \"q\"\n"
  destination = "/tmp/a"
  perms       = "0644"
  command     = ["echo", "done"]
  wait {
    min = "1s"
    max = "3s"
  }
}
template {
  contents    = "b"
  destination = "/tmp/b"
  exec {
    command = "true"
    env {
      custom = ["A=1"]
    }
  }
}
`})
	j := mustLoad(t, []string{dir + "/ct.json"}, Overrides{})
	h := mustLoad(t, []string{dir + "/ct.hcl"}, Overrides{})
	if j.Consul.Fingerprint() != h.Consul.Fingerprint() || j.Wait != h.Wait || j.LogLevel != h.LogLevel || len(j.Templates) != 2 {
		t.Fatalf("JSON %+v\nHCL %+v", j, h)
	}
	for i := range j.Templates {
		if j.Templates[i].Fingerprint() != h.Templates[i].Fingerprint() {
			t.Errorf("template %d:\nJSON %+v\nHCL  %+v", i, j.Templates[i], h.Templates[i])
		}
	}
	if got := j.Templates[0].Text; got != "{{ key \"a\" }} ${HOME} %{x} \"q\"\n" || j.Templates[0].Perms != 0o644 {
		t.Errorf("contents %q, perms %o", got, j.Templates[0].Perms)
	}
}

// TestHCLInAJSONFile: a .json file that holds HCL loads as HCL, as in
// consul-template, which tells the two apart by content (puppet's
// consul_template module writes its HCL to config.json).
func TestHCLInAJSONFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{"config.json": `consul {
  address = "127.0.0.1:8500"
}
template {
  contents    = "x"
  destination = "/tmp/x"
}
`})
	c := mustLoad(t, []string{dir + "/config.json"}, Overrides{})
	if len(c.Templates) != 1 || c.Consul.Address != "127.0.0.1:8500" {
		t.Fatalf("loaded %+v", c)
	}
}

// TestJSONConfigurationErrors: errors in a JSON configuration name its file
// and line.
func TestJSONConfigurationErrors(t *testing.T) {
	for _, tc := range []struct{ json, summary, where string }{
		{"{\n  \"log_level\": \"warn\",\n  \"template\": [\n", "Invalid JSON configuration", "line 3: the file ends inside the configuration"},
		{"{\"a\": }", "Invalid JSON configuration", "line 1: invalid character"},
		{"[1]", "Invalid JSON configuration", "one object"},
		{"{\n  \"template\": [{\"destination\": \"/tmp/x\"}],\n  \"template\": [{\"contents\": \"x\", \"destination\": \"/tmp/y\"}],\n\n  \"wait\": \"soon\"\n}", "Invalid wait", "ct.json:5:"},
		{"{\"template\": [{\"contents\": \"x\", \"destination\": \"/tmp/x\", \"perms\": 9999}]}", "Invalid JSON configuration", "perms 9999 is not a file mode"},
	} {
		dir := writeFiles(t, map[string]string{"ct.json": tc.json})
		cerr, got := loadError(t, []string{dir + "/ct.json"}, Overrides{})
		text := cerr.Error()
		if !strings.Contains(got, tc.summary) || !strings.Contains(text, tc.where) {
			t.Errorf("%q: %s\n%s", tc.json, got, text)
		}
	}
}
