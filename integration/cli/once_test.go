package cli

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// bJob is the body of job b in onceConfig.
const bJob = `  contents    = "b={{ key \"app/b\" }}\n"
  command     = "echo b >> $DIR/commands"
`

// onceConfig has two template jobs on Consul at addr, each appending its
// name to $DIR/commands; b's contents and command are bBody.
func onceConfig(addr, bBody string) string {
	return fmt.Sprintf(`consul { address = %q }
template "a" {
  contents    = "a={{ key \"app/a\" }}\n"
  destination = "$DIR/out/a.conf"
  command     = "echo a >> $DIR/commands"
}
template "b" {
  destination = "$DIR/out/b.conf"
%s}
`, addr, bBody)
}

// TestOnce: -once renders every template once, runs their commands, and
// exits 0; run again on unchanged data it writes nothing and runs nothing.
func TestOnce(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	c.PutKV("app/b", "2")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"drcon.hcl": onceConfig(c.Addr, bJob)})

	expect(t, "-once", drcon(t, dir, "-once", "-config", "drcon.hcl"), 0)
	if a, b := read(t, dir, "out/a.conf"), read(t, dir, "out/b.conf"); a != "a=1\n" || b != "b=2\n" {
		t.Fatalf("rendered %q and %q", a, b)
	}
	cmds := strings.Fields(read(t, dir, "commands"))
	slices.Sort(cmds)
	if !slices.Equal(cmds, []string{"a", "b"}) {
		t.Fatalf("commands ran: %v", cmds)
	}

	expect(t, "-once again", drcon(t, dir, "-once", "-config", "drcon.hcl"), 0)
	if n := len(strings.Fields(read(t, dir, "commands"))); n != 2 {
		t.Fatalf("a second -once on the same data ran %d commands more", n-2)
	}
}

// TestOnceSameTemplateTwice: two templates with the same source and
// different destinations both write with -once (consul-template #1719
// wrote one).
func TestOnceSameTemplateTwice(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.ctmpl": `a={{ key "app/a" }}`,
		"drcon.hcl": fmt.Sprintf(`consul { address = %q }
template {
  source      = "a.ctmpl"
  destination = "$DIR/one.conf"
}
template {
  source      = "a.ctmpl"
  destination = "$DIR/two.conf"
}
`, c.Addr),
	})
	expect(t, "-once", drcon(t, dir, "-once", "-config", "drcon.hcl"), 0)
	if one, two := read(t, dir, "one.conf"), read(t, dir, "two.conf"); one != "a=1" || two != "a=1" {
		t.Fatalf("rendered %q and %q", one, two)
	}
}

// TestOnceAsksEachDependencyOnce: -once sends one query per dependency
// that Consul answers with data, and no blocking query for a change it
// would not use; a key that is missing at first is waited for with a
// blocking query, and then not asked again.
func TestOnceAsksEachDependencyOnce(t *testing.T) {
	c := testenv.StartConsul(t)
	const services = 20
	for i := range services {
		c.Register(&api.AgentServiceRegistration{ID: fmt.Sprintf("web-%02d", i), Name: fmt.Sprintf("web-%02d", i), Port: 8000 + i})
	}
	proxy := testenv.StartProxy(t, c.Addr)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"up.ctmpl": `{{ key "app/late" }}
{{- range services }}{{ range service .Name }}
{{ .Name }} {{ .Port }}{{ end }}{{ end }}
`,
		"drcon.hcl": fmt.Sprintf(`consul { address = %q }
template {
  source      = "up.ctmpl"
  destination = "$DIR/up.conf"
}
`, proxy.Addr),
	})
	// The key is written once drcon, told it is missing, waits for it with
	// a blocking query. The writer reports to the test, which may have
	// ended early.
	waiting := func() bool {
		return slices.ContainsFunc(proxy.BlockingPaths(), func(k string) bool { return strings.HasPrefix(k, "/v1/kv/app/late") })
	}
	done, putErr := make(chan struct{}), make(chan error, 1)
	go func() {
		for !waiting() {
			select {
			case <-done:
				putErr <- nil
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		_, err := c.Client().KV().Put(&api.KVPair{Key: "app/late", Value: []byte("here")}, nil)
		putErr <- err
	}()
	r := drcon(t, dir, "-once", "-config", "drcon.hcl")
	close(done)
	if err := <-putErr; err != nil {
		t.Fatalf("put app/late: %v", err)
	}
	expect(t, "-once", r, 0)
	out := read(t, dir, "up.conf")
	if !strings.HasPrefix(out, "here\nconsul ") || !strings.Contains(out, "\nweb-00 8000\n") || strings.Count(out, "\n") != services+2 {
		t.Fatalf("rendered:\n%s", out)
	}
	if n := proxy.PathCount("/v1/health/service/"); n != services+1 {
		t.Errorf("%d queries of services' instances for %d services", n, services+1)
	}
	if n := proxy.PathCount("/v1/catalog/services"); n != 1 {
		t.Errorf("%d queries of the services list, want 1", n)
	}
	if n := proxy.PathCount("/v1/kv/app/late"); n != 2 {
		t.Errorf("%d queries of the late key, want 2 (missing, then a blocking query until it came)", n)
	}
}

// TestOnceFailures: a failing command, a refusing check and a failing
// render exit 4 naming the job; data that does not come exits 5 after
// -timeout naming each template and what it waits for.
func TestOnceFailures(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	c.PutKV("app/b", "2")
	tests := []struct {
		name   string
		bBody  string
		flags  []string
		code   int
		stderr []string
	}{
		{"command", "contents = \"b\"\ncommand = \"echo failing; exit 9\"\n", nil, 4,
			[]string{`template "b"`, "exit code 9"}},
		{"check", bJob + "check = \"echo nope >&2; exit 1\"\n", nil, 4, []string{`template "b"`, "nope"}},
		{"render", "contents = \"{{ key \\\"app/b\\\" | parseBool }}\"\n", nil, 4,
			[]string{`template "b"`, "parseBool"}},
		{"timeout", "contents = \"{{ key \\\"app/missing\\\" }}{{ service \\\"absent\\\" }}\"\n",
			[]string{"-timeout", "5s"}, 5, []string{`template "b"`, "timed out after 5s", "kv.block(app/missing)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"drcon.hcl": onceConfig(c.Addr, tt.bBody)})
			r := drcon(t, dir, append([]string{"-once", "-config", "drcon.hcl"}, tt.flags...)...)
			expect(t, "-once", r, tt.code, tt.stderr...)
			if strings.Contains(r.stderr, `template "a"`) {
				t.Fatalf("job a is blamed too:\n%s", r.stderr)
			}
			if read(t, dir, "out/a.conf") != "a=1\n" {
				t.Fatalf("job a did not render on its own")
			}
		})
	}
}

// TestOnceTimeoutSaysWhyDataIsMissing: a -once that times out while
// Consul cannot be reached says so on the job's error line, the one CI
// shows, not only "missing kv.block(app/a)", which reads as a key that does
// not exist.
func TestOnceTimeoutSaysWhyDataIsMissing(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"drcon.hcl": `consul { address = "127.0.0.1:1" }
log_level = "error"
template "a" {
  contents    = "{{ key \"app/a\" }}"
  destination = "$DIR/a.conf"
}
`})
	r := drcon(t, dir, "-once", "-config", "drcon.hcl", "-timeout", "2s")
	expect(t, "-once", r, 5)
	var line string
	for l := range strings.Lines(r.stderr) {
		if strings.Contains(l, `template "a"`) {
			line = l
		}
	}
	for _, want := range []string{"timed out after 2s", "missing kv.block(app/a)", "queries failed in a row", "connection refused"} {
		if !strings.Contains(line, want) {
			t.Fatalf("the job's error line lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestDry: -once -dry prints each render under a "> DESTINATION" line,
// writes no file and runs no command; -dry alone keeps printing until a
// stop signal.
func TestDry(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	c.PutKV("app/b", "2")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"drcon.hcl": onceConfig(c.Addr, bJob)})

	r := drcon(t, dir, "-once", "-dry", "-config", "drcon.hcl")
	expect(t, "-once -dry", r, 0)
	for _, want := range []string{"> " + dir + "/out/a.conf\na=1\n", "> " + dir + "/out/b.conf\nb=2\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if exists(dir, "out") || exists(dir, "commands") {
		t.Fatalf("-dry wrote files or ran commands")
	}

	p := testenv.Start(t, "drcon -dry", exec.Command(testenv.Drcon(t), "-dry", "-config", filepath.Join(dir, "drcon.hcl")))
	testenv.WaitFor(t, runLimit, "the first renders printed", func() bool { return strings.Contains(p.Output(), "b=2\n") })
	c.PutKV("app/b", "3")
	testenv.WaitFor(t, runLimit, "the change printed", func() bool {
		return strings.Contains(p.Output(), "> "+dir+"/out/b.conf\nb=3\n")
	})
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err, ok := p.Wait(runLimit); !ok || err != nil {
		t.Fatalf("-dry after SIGTERM: %v (exited: %t)", err, ok)
	}
	if exists(dir, "out") || exists(dir, "commands") {
		t.Fatalf("-dry wrote files or ran commands")
	}
}

// TestDryInConfigurationOrder: -once -dry prints the renders in the order
// of the configuration, whatever order the jobs end in, so that a CI job
// can diff the output of two runs.
func TestDryInConfigurationOrder(t *testing.T) {
	c := testenv.StartConsul(t)
	dir := t.TempDir()
	args := []string{"-once", "-dry", "-consul-addr", c.Addr}
	var want strings.Builder
	for _, name := range []string{"h", "c", "a", "f", "b", "g", "e", "d"} {
		c.PutKV("order/"+name, name+"-value")
		writeFiles(t, dir, map[string]string{name + ".ctmpl": `{{ key "order/` + name + `" }}`})
		dest := filepath.Join(dir, name+".out")
		args = append(args, "-template", name+".ctmpl:"+dest)
		fmt.Fprintf(&want, "> %s\n%s-value", dest, name)
	}
	for range 3 {
		r := run(t, dir, testenv.Drcon(t), args...)
		expect(t, "drcon", r, 0)
		if r.stdout != want.String() {
			t.Fatalf("printed:\n%s\nwant:\n%s", r.stdout, want.String())
		}
	}
}

// TestDryWithoutDestination: with -dry a -template flag may leave out its
// destination, as in consul-template: both print the same.
func TestDryWithoutDestination(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.ctmpl": `a={{ key "app/a" }}`})
	args := []string{"-once", "-dry", "-consul-addr", c.Addr, "-template", "a.ctmpl"}
	ct := run(t, dir, testenv.ConsulTemplate(t), args...)
	dr := run(t, dir, testenv.Drcon(t), args...)
	expect(t, "consul-template", ct, 0)
	expect(t, "drcon", dr, 0)
	if ct.stdout != "> \na=1" || dr.stdout != ct.stdout {
		t.Errorf("consul-template printed %q, drcon %q", ct.stdout, dr.stdout)
	}
	if r := run(t, dir, testenv.Drcon(t), "-once", "-consul-addr", c.Addr, "-template", "a.ctmpl"); r.code != 2 {
		t.Errorf("without -dry: exit %d, want 2", r.code)
	}
}
