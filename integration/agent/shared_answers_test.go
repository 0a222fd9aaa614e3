package agent

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// writer is a template that writes into the answers it shares with the
// others: mergeMapWithOverride merges into the dict's map, which is the
// instance's own ServiceMeta, and sprig_sortAlpha sorts datacenters' list
// in place (consul-template's functions do the same).
const writer = `{{ range service "web" }}{{ $_ := mergeMapWithOverride (sprig_dict "m" .ServiceMeta) ` +
	`(sprig_dict "m" (splitToMap "," "=" "seen=%d")) }}{{ .ServiceMeta.version }}{{ end }} ` +
	`{{ datacenters | sprig_sortAlpha | sprig_join "," }}`

// TestTemplatesWritingIntoSharedAnswers: templates whose functions write
// into the answers that every job of the process shares execute one at a
// time, as consul-template's one goroutine executes them: the race-built
// agent reports no data race (a map written by two executions at once
// would end the process), and every file follows the service.
func TestTemplatesWritingIntoSharedAnswers(t *testing.T) {
	c := testenv.StartConsul(t)
	register := func(version int) {
		c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Port: 8080, Address: "127.0.0.1",
			Meta: map[string]string{"version": fmt.Sprint(version)}})
	}
	register(0)
	const jobs = 6
	var hcl strings.Builder
	fmt.Fprintf(&hcl, "consul { address = %q }\n", c.Addr)
	for i := range jobs {
		fmt.Fprintf(&hcl, "template \"w%d\" {\n  contents    = %q\n  destination = \"$DIR/w%d.out\"\n}\n",
			i, fmt.Sprintf(writer, i), i)
	}
	d := newDrcon(t)
	d.write(hcl.String())
	d.start()
	for version := range 10 {
		register(version)
		want := fmt.Sprintf("%d dc1", version)
		testenv.WaitFor(t, waitLimit, "every file at version "+fmt.Sprint(version), func() bool {
			for i := range jobs {
				if d.read(fmt.Sprintf("w%d.out", i)) != want {
					return false
				}
			}
			return true
		})
	}
	if out := d.proc.Output(); strings.Contains(out, "DATA RACE") {
		t.Fatalf("the agent reported a data race:\n%s", out)
	}
}
