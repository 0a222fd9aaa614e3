package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// answerOrderRuns is how many -once runs of consul-template each pair gets.
const answerOrderRuns = 16

// BenchmarkConsulTemplateAnswerOrder measures which of two dependencies,
// first used in one pass, consul-template gets the answer of first: the race
// that jobs/render/partial.go reproduces (KV answers as the candidates). For
// each pair (in both orders of use), a template fails naming X or Y when it
// executes with that one's data alone; the metrics are the runs in which X,
// Y, or both at once came first.
func BenchmarkConsulTemplateAnswerOrder(b *testing.B) {
	ct := testenv.ConsulTemplate(b)
	c := testenv.StartConsul(b)
	c.PutKV("app/name", "web")
	c.PutKV("app/config/name", "drcon")
	c.PutKV("app/config/port", "8080")
	c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 8080})
	dir := b.TempDir()
	pairs := []struct{ name, x, y string }{
		{"key-service", `key "app/name"`, `service "web"`},
		{"service-key", `service "web"`, `key "app/name"`},
		{"services-key", `services`, `key "app/name"`},
		{"key-node", `key "app/name"`, `node`},
		{"list-service", `ls "app/config"`, `service "web"`},
		{"service-list", `service "web"`, `ls "app/config"`},
		{"list-node", `ls "app/config"`, `node`},
		{"key-key", `key "app/config/name"`, `key "app/config/port"`},
		{"service-services", `service "web"`, `services`},
	}
	b.ResetTimer()
	for range b.N {
		for _, p := range pairs {
			src := filepath.Join(dir, p.name+".ctmpl")
			text := fmt.Sprintf(`{{ $x := %s }}{{ $y := %s }}{{ if and $x (not $y) }}{{ parseInt "FIRST-X" }}{{ end }}`+
				`{{ if and $y (not $x) }}{{ parseInt "FIRST-Y" }}{{ end }}`, p.x, p.y)
			if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
				b.Fatal(err)
			}
			var x, y, both int
			for range answerOrderRuns {
				var stderr bytes.Buffer
				cmd := exec.Command(ct, append(tmplArgs(c.Addr, src+":"+filepath.Join(dir, p.name+".out")), "-once")...)
				cmd.Stderr = &stderr
				err := cmd.Run()
				switch {
				case strings.Contains(stderr.String(), "FIRST-X"):
					x++
				case strings.Contains(stderr.String(), "FIRST-Y"):
					y++
				case err == nil:
					both++
				default:
					b.Fatalf("%s: %v\n%s", p.name, err, stderr.String())
				}
			}
			b.ReportMetric(float64(x), p.name+"-x-first")
			b.ReportMetric(float64(y), p.name+"-y-first")
			b.ReportMetric(float64(both), p.name+"-together")
			b.Logf("%-16s X=[%s] Y=[%s]: X first %d, Y first %d, together %d of %d",
				p.name, p.x, p.y, x, y, both, answerOrderRuns)
		}
	}
}
