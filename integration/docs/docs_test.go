// Package docs checks that README.md says what the code does: its function
// reference against the template language, its configuration examples
// against the configuration loader's fixtures, its status sample and its
// metrics table against the code, and its CI commands against a real
// Consul (ci_test.go).
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
	"github.com/drcon/drcon/template"
)

func readme(t *testing.T) (root, text string) {
	t.Helper()
	root = testenv.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}

// section is the README text between <!-- NAME:begin --> and <!-- NAME:end -->.
func section(t *testing.T, text, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "<!-- "+name+":begin -->")
	body, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok || !ok2 {
		t.Fatalf("README.md has no %s section", name)
	}
	return body
}

// TestFunctionReference: every function the language offers is in the
// README's reference, every function the reference names exists (or is
// listed as refused), and the refused list is the implementation's.
func TestFunctionReference(t *testing.T) {
	_, text := readme(t)
	ref := section(t, text, "functions")
	mentioned := map[string]bool{}
	for _, m := range regexp.MustCompile("`([A-Za-z_][A-Za-z0-9_]*)[ `]").FindAllStringSubmatch(ref, -1) {
		mentioned[m[1]] = true
	}
	offered := template.FuncNames()
	refused := template.Refused()
	for _, name := range offered {
		if !mentioned[name] {
			t.Errorf("function %s is not in README.md's reference", name)
		}
	}
	_, refusedText, _ := strings.Cut(ref, "**Refused at parse time**")
	for _, name := range refused {
		if !strings.Contains(refusedText, "`"+name+"`") {
			t.Errorf("refused function %s is not listed as refused", name)
		}
	}
	// Every sprig_ name listed exists: the list is not a wish list.
	for name := range mentioned {
		if strings.HasPrefix(name, "sprig_") && len(name) > len("sprig_") && !slices.Contains(offered, name) {
			t.Errorf("README.md names %s, which the language does not have", name)
		}
	}
}

// TestConfigurationExamples: every HCL example in README.md is a fixture of
// the configuration loader, byte for byte, and loads.
func TestConfigurationExamples(t *testing.T) {
	root, text := readme(t)
	blocks := regexp.MustCompile("(?s)(<!-- fixture: (\\S+) -->\n)?```hcl\n(.*?)```").FindAllStringSubmatch(text, -1)
	if len(blocks) == 0 {
		t.Fatal("no HCL examples in README.md")
	}
	for i, b := range blocks {
		path, example := b[2], b[3]
		if path == "" {
			t.Errorf("example %d has no <!-- fixture: PATH --> line above it", i+1)
			continue
		}
		full := filepath.Join(root, path)
		fixture, err := os.ReadFile(full)
		if err != nil {
			t.Errorf("example %d: %v", i+1, err)
			continue
		}
		if string(fixture) != example {
			t.Errorf("example %d differs from %s", i+1, path)
		}
		if _, err := config.Load([]string{full}, config.Overrides{Getenv: func(string) string { return "" }}); err != nil {
			t.Errorf("example %d (%s) does not load: %v", i+1, path, err)
		}
	}
}

// TestStatusSample: the README's `drcon status` sample is the table that
// cmd/drcon's golden test prints.
func TestStatusSample(t *testing.T) {
	root, text := readme(t)
	golden, err := os.ReadFile(filepath.Join(root, "cmd/drcon/testdata/status.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if got := section(t, text, "status"); !strings.Contains(got, "```text\n"+string(golden)+"```") {
		t.Errorf("README.md's status sample is not cmd/drcon/testdata/status.golden:\n%s", got)
	}
}

// TestMetricsReference: every metric of the jobs and of the runtime is in
// the README's table (TestOperations checks the table against a running
// agent's /metrics).
func TestMetricsReference(t *testing.T) {
	_, text := readme(t)
	ref := section(t, text, "metrics")
	reg := metrics.NewRegistry()
	jobs.NewMetrics(reg)
	reg.RegisterRuntime()
	for _, name := range reg.Names() {
		if !strings.Contains(ref, "`"+name+"`") {
			t.Errorf("metric %s is not in README.md's metrics table", name)
		}
	}
}
