package compat

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// TestHCL1Configuration runs one consul-template configuration written in
// HCL 1's forms (blocks on one line, commas, blocks written as arguments,
// names in quotes), as published configurations write it, with -once in
// both tools against the same Consul: both load it, write the same files
// with the same modes and run the template's command.
func TestHCL1Configuration(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	if _, err := c.Client().KV().Put(&api.KVPair{Key: "hcl1/a", Value: []byte("v1")}, nil); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write := fileWriter(t, work)
	// Two sources: consul-template -once writes one of two templates with
	// the same contents (consul-template #1719).
	one := write("one.ctmpl", `{{ key "hcl1/a" }} {{ range service "consul" }}{{ .Port }}{{ end }}`+"\n")
	two := write("two.ctmpl", `{{ key "hcl1/a" }}-two`+"\n")
	outputs := map[string][]string{}
	for _, tl := range []struct{ who, bin string }{{"consul-template", ctBin}, {"drcon", bin}} {
		out := func(name string) string { return filepath.Join(work, tl.who+"-"+name) }
		cfg := write(tl.who+".hcl", fmt.Sprintf(`consul = { address = %q, retry { enabled = true, attempts = 2, backoff = "100ms" } }
wait { min = "1s" max = "2s" }
template { source = %q, destination = %q, perms = 0640 }
template {
  "source" = %q,
  "destination" = %q,
  wait = { min = "1s", max = "3s" }
  exec { command = "touch %s", timeout = "5s" }
}
`, c.Addr, one, out("one.out"), two, out("two.out"), out("ran")))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		b, err := exec.CommandContext(ctx, tl.bin, "-once", "-config", cfg).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s -once -config %s: %v\n%s", tl.who, cfg, err, b)
		}
		for _, name := range []string{"one.out", "two.out", "ran"} {
			fi, err := os.Stat(out(name))
			if err != nil {
				t.Fatalf("%s: %v\n%s", tl.who, err, b)
			}
			content, _ := os.ReadFile(out(name))
			outputs[tl.who] = append(outputs[tl.who], fmt.Sprintf("%s %v %q", name, fi.Mode().Perm(), content))
		}
	}
	ct, dr := outputs["consul-template"], outputs["drcon"]
	for i := range ct {
		if ct[i] != dr[i] {
			t.Errorf("consul-template: %s\ndrcon:           %s", ct[i], dr[i])
		}
	}
}
