package agent

import (
	"fmt"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestFirstAnswersAlone: a template that fails with either of its first
// answers alone (consul-template, which executes it after the first answer,
// stops on it every time) is rendered by the daemon with both, and the log
// says what would have stopped consul-template. -once fails on it (the
// compat suite compares that with consul-template).
func TestFirstAnswersAlone(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	c.PutKV("app/b", "2")
	d := newDrcon(t)
	d.write(fmt.Sprintf(`consul { address = %q }
template "half" {
  contents    = "{{ if and (key \"app/a\") (key \"app/b\") }}both{{ else if or (key \"app/a\") (key \"app/b\") }}{{ parseInt \"half\" }}{{ end }}"
  destination = "$DIR/half.out"
}
`, c.Addr))
	d.start()
	testenv.WaitFor(t, waitLimit, "the render with both keys", func() bool { return d.read("half.out") == "both" })
	testenv.WaitFor(t, waitLimit, "the warning", func() bool {
		return d.countLog("render would fail in consul-template") == 1 && d.countLog("with the data of kv.block(app/a) alone") == 1
	})
	// The job writes the file, then records its state: wait for it.
	testenv.WaitFor(t, waitLimit, `the job's state "idle"`, func() bool { return d.job("half").State == "idle" })
}
