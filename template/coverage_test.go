package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template/parse"
)

// The golden corpus, checked against consul-template, calls every function
// drcon offers (sprig's through a sample) and each one it refuses.
func TestGoldenCorpusCoversEveryFunction(t *testing.T) {
	called := map[string]bool{}
	paths, _ := filepath.Glob("testdata/golden/*.ctmpl")
	for _, p := range paths {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var o goldenOptions
		if b, err := os.ReadFile(strings.TrimSuffix(p, ".ctmpl") + ".json"); err == nil {
			if err := json.Unmarshal(b, &o); err != nil {
				t.Fatal(err)
			}
		}
		tree := parse.New(p)
		tree.Mode = parse.SkipFuncCheck
		trees := map[string]*parse.Tree{}
		if _, err := tree.Parse(string(text), o.Template.LeftDelimiter, o.Template.RightDelimiter, trees); err != nil {
			continue // syntax errors on purpose
		}
		for _, tr := range trees {
			walk(tr.Root, func(id *parse.IdentifierNode) bool { called[id.Ident] = true; return true })
		}
	}
	sprig := 0
	for _, n := range append(FuncNames(), unsupportedNames()...) {
		switch {
		case strings.HasPrefix(n, "sprig_"):
			if called[n] {
				sprig++
			}
		case !called[n]:
			t.Errorf("no golden template calls %s", n)
		}
	}
	if sprig < 10 {
		t.Errorf("only %d sprig functions in the golden corpus", sprig)
	}
}
