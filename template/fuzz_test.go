package template

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzTemplate parses and executes arbitrary template text (seeded with the
// golden templates) against the golden Consul state: a template is user
// input, and whatever it holds must end in output or an error, never a
// panic. The functions that run programs or write files are denied.
func FuzzTemplate(f *testing.F) {
	dir, err := filepath.Abs("testdata/golden")
	if err != nil {
		f.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ctmpl"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	store, env := loadGoldenState(f, dir)
	f.Fuzz(func(t *testing.T, text string) {
		opts := Options{Name: "fuzz.ctmpl", SandboxPath: dir, Env: env,
			FunctionDenylist: []string{"plugin", "writeToFile", "loop", "sprig_until*", "sprig_seq", "sprig_repeat"}}
		renderAll(text, opts, store)
	})
}
