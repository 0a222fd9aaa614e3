package config

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReferenceExamples checks that every HCL example in REFERENCE.md is a
// fixture, byte for byte; TestLoadGood loads the fixtures.
func TestReferenceExamples(t *testing.T) {
	doc, err := os.ReadFile("REFERENCE.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)(<!-- fixture: (\\S+) -->\n)?```hcl\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) == 0 {
		t.Fatal("no examples found")
	}
	for i, b := range blocks {
		path, example := b[2], b[3]
		if path == "" {
			t.Errorf("example %d has no <!-- fixture: testdata/good/NAME.hcl --> line above it", i+1)
			continue
		}
		if !strings.HasPrefix(path, "testdata/good/") {
			t.Errorf("example %d: fixture %s is not under testdata/good/", i+1, path)
		}
		fixture, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("example %d: %v", i+1, err)
			continue
		}
		if string(fixture) != example {
			t.Errorf("example %d differs from %s", i+1, path)
		}
	}
}
