package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load as one configuration file. Load
// must never panic, and must return either a Config or a *Error.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		paths, _ := filepath.Glob(filepath.Join("testdata", dir, "*.hcl"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// JSON configurations take another path (json.go).
	f.Add([]byte(`{"consul": {"address": "a:1", "retry": {"attempts": 3}}, "wait": "1s:2s",
  "template": [{"contents": "{{ key \"k\" }} ${x}", "destination": "/tmp/x", "perms": 420, "wait": {"min": "1s"}}]}`))
	f.Add([]byte(`{"template": [{"destination": "/tmp/x"}, 1], "a": [[1]], "b": {"c": {"d": null}}}`))
	// HCL 1's forms take a rewrite first (hcl1.go).
	f.Add([]byte("consul{address=\"a:1\",retry{attempts=3}}\nwait { min = \"1s\" max = \"2s\" }\n" +
		"template = { \"contents\" = \"x\", destination = \"/tmp/x\", \"exec\" { command = \"true\" timeout = \"5s\" } }\n"))
	// The file sits in testdata/good so that relative source and file()
	// paths can reach the fixtures' templates.
	name := filepath.Join("testdata", "good", "fuzz.hcl")
	f.Fuzz(func(t *testing.T, data []byte) {
		// HCL 1's forms, once rewritten, are HCL 2's: a second rewrite
		// finds nothing to do.
		if out, _, changed := rewriteHCL1(data, name); changed {
			if again, _, changed := rewriteHCL1(out, name); changed {
				t.Fatalf("rewriteHCL1 is not done in one pass:\n%s\nthen\n%s", out, again)
			}
		}
		l := newLoader(Overrides{Getenv: testEnv})
		c, err := l.load([]source{{name: name, data: data}})
		if (c == nil) == (err == nil) {
			t.Fatalf("Load = %v, %v: want exactly one of a Config and an error", c, err)
		}
		if err != nil {
			_ = err.Error()
			return
		}
		for _, tm := range c.Templates {
			_ = tm.Fingerprint()
		}
		_ = c.Fingerprint()
	})
}
