package demo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

func TestEdits(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "drcon.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		src   string
		edits []Edit
	}{
		{"only-labeled", string(src), []Edit{OnlyLabeled(ContainerLabel, "run1")}},
		{"no-wait", string(src), []Edit{NoWait()}},
		{"no-templates", string(src), []Edit{NoTemplates()}},
		{"no-wait-blocks", `wait {
  min = "1s"
}
template "a" {
  contents    = "x"
  destination = "/tmp/a"
  wait {
    min = "2s"
  }
}
`, []Edit{NoWait()}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := applyEdits([]byte(c.src), "drcon.hcl", c.edits)
			if err != nil {
				t.Fatal(err)
			}
			if _, diags := hclsyntax.ParseConfig(out, "edited.hcl", hcl.InitialPos); diags.HasErrors() {
				t.Errorf("the edited configuration does not parse: %v", diags)
			}
			golden(t, filepath.Join("edit", c.name+".hcl"), string(out))
		})
	}
	if _, err := applyEdits([]byte("template {"), "bad.hcl", []Edit{NoWait()}); err == nil {
		t.Error("a configuration that does not parse: no error")
	}
}
