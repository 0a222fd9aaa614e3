package cli

import (
	"strings"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestOnceExec: consul-template's -exec flags, given the same way to
// consul-template v0.41.1 and to drcon: with -once the child runs after
// the template has rendered, sees it, the same CONSUL_HTTP_* variables and
// the custom environment but not a denied variable, and each program exits
// with the child's code.
func TestOnceExec(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "alpha")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.ctmpl": `a={{ key "app/a" }}`})
	t.Setenv("SECRET", "s3cr3t") // inherited by both programs, denied to their children
	bins := map[string]string{"ct": testenv.ConsulTemplate(t), "drcon": testenv.Drcon(t)}
	outs := map[string]string{}
	for name, bin := range bins {
		r := run(t, dir, bin,
			"-once",
			"-consul-addr", c.Addr,
			"-template", "a.ctmpl:"+name+".conf",
			"-consul-token", "t0k3n",
			"-exec", `echo "saw $(cat `+name+`.conf) mode=$MODE secret=$SECRET"; env | grep ^CONSUL_ | sort; exit 4`,
			"-exec-kill-timeout", "5s",
			"-exec-splay", "0s",
			"-exec-env-custom", "MODE=exec",
			"-exec-env-denylist", "SECRET",
		)
		if r.code != 4 {
			t.Errorf("%s: exit code %d, want the child's 4\nstderr:\n%s", name, r.code, r.stderr)
		}
		if want := "saw a=alpha mode=exec secret=\n"; !strings.HasPrefix(r.stdout, want) {
			t.Errorf("%s: the child printed %q, want it to start with %q", name, r.stdout, want)
		}
		outs[name] = r.stdout
	}
	// The same CONSUL_HTTP_* variables, as well.
	if outs["ct"] != outs["drcon"] || !strings.Contains(outs["drcon"], "CONSUL_HTTP_TOKEN=t0k3n\n") {
		t.Errorf("the children's output differs:\nconsul-template:\n%s\ndrcon:\n%s", outs["ct"], outs["drcon"])
	}
	// A child and no template (consul-template runs it as a supervisor).
	for name, bin := range bins {
		r := run(t, dir, bin, "-once", "-consul-addr", c.Addr, "-exec", "echo alone; exit 6")
		if r.code != 6 || r.stdout != "alone\n" {
			t.Errorf("%s -once -exec without a template: exit code %d, output %q; want 6 and the child's line\nstderr:\n%s",
				name, r.code, r.stdout, r.stderr)
		}
	}
	// A child that exits 0 ends a -once run with 0.
	r := drcon(t, dir, "-once", "-consul-addr", c.Addr, "-template", "a.ctmpl:ok.conf", "-exec", "true")
	expect(t, "drcon -once -exec true", r, 0)
	if strings.Contains(r.stderr, "exited") {
		t.Errorf("a child that exited 0 was reported:\n%s", r.stderr)
	}
}
