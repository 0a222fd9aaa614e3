package cli

import (
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestValidateExamples: every configuration under examples/ validates, with
// no network and no service running.
func TestValidateExamples(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot(t), "examples")
	var configs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			configs = append(configs, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("list examples: %v", err)
	}
	if len(configs) == 0 {
		t.Fatalf("no configuration under %s", root)
	}
	for _, path := range configs {
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			r := drcon(t, t.TempDir(), "validate", "-config", path)
			expect(t, "validate", r, 0)
			if !strings.HasPrefix(r.stdout, "configuration is valid") {
				t.Fatalf("stdout %q", r.stdout)
			}
		})
	}
}

var position = regexp.MustCompile(`(?m)^drcon\.hcl:(\d+):(\d+): `)

// TestValidateMistakes: a file with three mistakes gets all three, each
// with file:line:col, and exit code 3; templates that do not parse are
// reported the same way, with the template's own line.
func TestValidateMistakes(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"drcon.hcl": `consul {
  adress = "127.0.0.1:8500"
}
template "web" {
  source      = "web.ctmpl"
  destination = "$DIR/web.conf"
  wait        = "5s:1s"
}
registrator "docker" {
  deregister = "never"
}
`,
		"templates.hcl": `template "web" {
  source      = "web.ctmpl"
  destination = "$DIR/web.conf"
}
template "inline" {
  contents    = "{{ range services }}"
  destination = "$DIR/inline.conf"
}
`,
		"web.ctmpl": "upstream web {\n{{ range service \"web\" }}\n  server {{ .Address }:{{ .Port }};\n{{ end }}\n}\n",
	})
	r := drcon(t, dir, "validate", "-config", "drcon.hcl")
	expect(t, "three mistakes", r, 3)
	got := position.FindAllStringSubmatch(r.stderr, -1)
	want := [][2]string{{"2", "3"}, {"7", "17"}, {"10", "16"}}
	if len(got) != len(want) {
		t.Fatalf("%d diagnostics with file:line:col, want %d:\n%s", len(got), len(want), r.stderr)
	}
	for i, w := range want {
		if got[i][1] != w[0] || got[i][2] != w[1] {
			t.Errorf("diagnostic %d at %s:%s, want %s:%s", i, got[i][1], got[i][2], w[0], w[1])
		}
	}

	r = drcon(t, dir, "validate", "-config", "templates.hcl")
	expect(t, "templates", r, 3, "templates.hcl:1:1: template \"web\"", "web.ctmpl:3:",
		"templates.hcl:5:1: template \"inline\"", "unexpected EOF")
}
