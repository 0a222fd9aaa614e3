package config

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hcl1Canonical is a consul-template configuration in HCL 2's forms; each
// case of TestHCL1Forms writes the same settings in forms that only HCL 1
// (consul-template's parser) reads.
const hcl1Canonical = `consul {
  address = "127.0.0.1:8500"
  retry {
    attempts = 3
  }
}
wait {
  min = "2s"
  max = "10s"
}
template {
  contents    = "x"
  destination = "/tmp/a"
  perms       = "0640"
  wait {
    min = "1s"
    max = "3s"
  }
  exec {
    command = "true"
    timeout = "5s"
  }
}
`

// TestHCL1Forms: consul-template's configurations in HCL 1's forms (items
// sharing a line, commas, blocks written as arguments, items touching)
// load as the same configuration as in HCL 2's.
func TestHCL1Forms(t *testing.T) {
	want := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": hcl1Canonical})}, Overrides{})
	for _, file := range []string{
		// One line per block.
		`consul { address = "127.0.0.1:8500" retry { attempts = 3 } }
wait { min = "2s" max = "10s" }
template { contents = "x" destination = "/tmp/a" perms = "0640" wait { min = "1s" max = "3s" } exec { command = "true" timeout = "5s" } }
`,
		// Commas, trailing ones too.
		`consul { address = "127.0.0.1:8500", retry { attempts = 3, }, }
wait { min = "2s", max = "10s" }
template {
  contents = "x",
  destination = "/tmp/a",
  perms = "0640",
  wait { min = "1s", max = "3s", }
  exec { command = "true", timeout = "5s" }
}
`,
		// Blocks written as arguments.
		`consul = { address = "127.0.0.1:8500", retry = { attempts = 3 } }
wait = { min = "2s", max = "10s" }
template = {
  contents = "x"
  destination = "/tmp/a"
  perms = "0640"
  wait = {
    min = "1s"
    max = "3s"
  }
  exec = { command = "true", timeout = "5s" }
}
`,
		// Items that touch, and a body's end on the line of its last item.
		`consul{address="127.0.0.1:8500",retry{attempts=3}}
wait{min="2s",max="10s"}
template {
  contents = "x" destination = "/tmp/a"
  perms = "0640"
  wait {min="1s"
        max="3s"}
  exec { command = "true"
    timeout = "5s" } }
`,
		// Names in quotes.
		`"consul" { "address" = "127.0.0.1:8500" "retry" = { "attempts" = 3 } }
wait{"min"="2s""max"="10s"}
template {
  "contents" = "x"
  "destination" = "/tmp/a"
  perms = "0640"
  "wait" { min = "1s" max = "3s" }
  exec { "command" = "true" timeout = "5s" }
}
`,
		// Comments between items.
		`consul { address = "127.0.0.1:8500" /* the local agent */ retry { attempts = 3 } }
wait { min = "2s" # quiet
  max = "10s" }
template { contents = "x" destination = "/tmp/a" perms = "0640" wait { min = "1s" max = "3s" } exec { command = "true" timeout = "5s" } } // one job
`,
	} {
		got := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": file})}, Overrides{})
		if len(got.Warnings) != 0 || got.Fingerprint() != want.Fingerprint() ||
			len(got.Templates) != 1 || got.Templates[0].Fingerprint() != want.Templates[0].Fingerprint() {
			t.Errorf("%s\nloads as %+v %+v, warnings %v; want %+v %+v", file, got, got.Templates, got.Warnings, want, want.Templates)
		}
	}
}

// TestHCL1Separators: the canonical file with each line break between items
// replaced at random by a space, a comma, a comma and a line break, or
// nothing where the items can touch, loads as the same configuration.
func TestHCL1Separators(t *testing.T) {
	want := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": hcl1Canonical})}, Overrides{})
	lines := strings.Split(strings.TrimSuffix(hcl1Canonical, "\n"), "\n")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		var b strings.Builder
		for i, line := range lines {
			b.WriteString(strings.TrimSpace(line))
			if i == len(lines)-1 {
				break
			}
			afterOpen := strings.HasSuffix(line, "{")
			seps := []string{"\n", " ", ", ", ",\n", ""}
			if afterOpen {
				seps = []string{"\n", " ", ""} // no comma before a body's first item
			}
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		file := b.String() + "\n"
		got := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": file})}, Overrides{})
		if got.Fingerprint() != want.Fingerprint() || len(got.Templates) != 1 ||
			got.Templates[0].Fingerprint() != want.Templates[0].Fingerprint() {
			t.Fatalf("%s\nloads as %+v %+v", file, got, got.Templates[0])
		}
	}
}

// TestHCL1Positions: diagnostics and jobs in a file that rewriteHCL1
// changed name the file as written, line and column.
func TestHCL1Positions(t *testing.T) {
	for _, tc := range []struct {
		file, summary string
		line, col     int
	}{
		{"template { contents = \"x\" destination = \"/tmp/a\" bogus = 1 }\n", "Unsupported argument", 1, 50},
		{"template {\n  \"contents\" = \"x\"\n  \"destination\" = \"/tmp/a\"\n  \"bogus\" = 1\n}\n", "Unsupported argument", 4, 4},
		{"wait{min=\"2s\",max=\"soon\"}\ntemplate { contents = \"x\", destination = \"/tmp/a\" }\n", "Invalid duration", 1, 19},
		{"consul = { address = \"a:1\", retry { backoff = \"0s\" } }\n\ntemplate { contents = \"x\"\n destination = \"/tmp/a\" }\n", "Invalid retry backoff", 1, 47},
		// A form HCL 1 refuses too is left to the parser.
		{"template {\n  contents = \"x\"\n  destination = \"/tmp/a\"\n  wait { min = \"1s\"; max = \"2s\" }\n}\n", "Invalid character", 4, 20},
	} {
		cerr, got := loadError(t, []string{writeFiles(t, map[string]string{"a.hcl": tc.file})}, Overrides{})
		if cerr == nil || cerr.Diagnostics[0].Summary != tc.summary {
			t.Errorf("%q: %s, want %s first\n%v", tc.file, got, tc.summary, cerr)
			continue
		}
		d := cerr.Diagnostics[0]
		if d.Subject == nil || d.Subject.Start.Line != tc.line || d.Subject.Start.Column != tc.col {
			t.Errorf("%q: %s at %v, want %d:%d", tc.file, tc.summary, d.Subject, tc.line, tc.col)
		}
	}
	c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": "wait{min=\"1s\"}\n\ntemplate{contents=\"x\",destination=\"/tmp/a\"}\n"})}, Overrides{})
	if r := c.Templates[0].DeclRange; r.Start.Line != 3 || r.Start.Column != 1 {
		t.Errorf("template declared at %v, want line 3, column 1", r)
	}
}

// TestHCL1LeavesHCL2Alone: a file in HCL 2's forms is parsed as written:
// every configuration of the fixtures and of examples/, and files that
// look like HCL 1's forms but are not.
func TestHCL1LeavesHCL2Alone(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*", "*.hcl"))
	examples, _ := filepath.Glob(filepath.Join("..", "examples", "*", "*.hcl"))
	top, _ := filepath.Glob(filepath.Join("..", "examples", "*.hcl"))
	paths = append(append(paths, examples...), top...)
	if len(paths) < 10 {
		t.Fatalf("only %d configurations found", len(paths))
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files[p] = b
	}
	for name, s := range map[string]string{
		"single":   "wait { min = \"2s\" }\n",
		"empty":    "consul {}\ntemplate {\n}\n",
		"filter":   "registrator \"d\" {\n  filter = { a = \"b\", c = \"d\" }\n}\n",
		"list":     "template {\n  function_denylist = [\"a\",\n    \"b\"]\n}\n",
		"heredoc":  "template {\n  contents = <<EOT\n{ a = 1, b = 2 }\nEOT\n}\n",
		"interp":   "template {\n  command = \"echo ${x} %{ if true }y%{ endif }\"\n}\n",
		"comments": "# a\ntemplate { # b\n  contents = \"x\" // c\n  /* d */ destination = \"/tmp/a\"\n}\n",
	} {
		files[name] = []byte(s)
	}
	for name, b := range files {
		if out, _, changed := rewriteHCL1(b, name); changed {
			t.Errorf("%s was rewritten:\n%s", name, out)
		}
	}
	// An argument whose value is a map keeps it, on one line or several.
	c := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": "registrator \"d\" { filter = { a = \"b\", c = \"d\" } explicit = true resync = \"30s\" }\n"})}, Overrides{})
	if f := c.Registrators[0].Filter; len(f) != 2 || f["a"] != "b" || f["c"] != "d" {
		t.Errorf("filter %v, want a=b and c=d", f)
	}
}
