package agent

import (
	"fmt"
	"slices"
	"syscall"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestRegistratorReload: a registrator block removed by a reload leaves its
// services unless deregister_on_exit; a changed block hands its services to
// its successor without deregistering them; a stop deregisters them with
// deregister_on_exit.
func TestRegistratorReload(t *testing.T) {
	c := testenv.StartConsul(t)
	ctr := newContainers(t)
	d := newDrcon(t)
	conf := func(block string) string {
		return fmt.Sprintf(`consul { address = %q }
template "static" {
  contents    = "static"
  destination = "$DIR/static.out"
}
%s`, c.Addr, block)
	}
	registrator := func(onExit bool, tag string) string {
		return fmt.Sprintf("registrator \"r\" {\n  %s\n  deregister_on_exit = %t\n  tags = [%q]\n}\n", ctr.filter(), onExit, tag)
	}
	reload := func(hcl string, want func(stopped, started, restarted []string) bool) {
		t.Helper()
		d.write(conf(hcl))
		st := d.reload()
		if st.Outcome != "ok" || !want(st.Stopped, st.Started, st.Restarted) {
			t.Fatalf("reload: %+v", st)
		}
		d.waitHealthy()
	}
	one := func(list []string, name string) bool { return slices.Equal(list, []string{name}) }
	tagged := func(tag string) func() bool {
		return func() bool {
			s := services(t, c)
			for _, svc := range s {
				return len(s) == 1 && slices.Contains(svc.Tags, tag)
			}
			return false
		}
	}

	d.write(conf(registrator(false, "one")))
	d.start()
	d.waitHealthy()
	ctr.start()
	testenv.WaitFor(t, waitLimit, "the service registered", tagged("one"))

	// Removed, without deregister_on_exit: the service stays.
	reload("", func(stopped, _, _ []string) bool { return one(stopped, "r") })
	if s := services(t, c); len(s) != 1 {
		t.Fatalf("the removed block's service went: %v", s)
	}

	// Back with deregister_on_exit, then changed: the successor takes the
	// service over with no deregistration in between.
	reload(registrator(true, "one"), func(_, started, _ []string) bool { return one(started, "r") })
	reload(registrator(true, "two"), func(_, _, restarted []string) bool { return one(restarted, "r") })
	testenv.WaitFor(t, waitLimit, "the new tag", tagged("two"))
	if n := d.metric("drcon_registrator_registrations_total", "job", "r", "action", "deregister"); n != 0 {
		t.Fatalf("the restart deregistered %v services", n)
	}

	// Removed, with deregister_on_exit: the service goes with the block.
	reload("", func(stopped, _, _ []string) bool { return one(stopped, "r") })
	if s := services(t, c); len(s) != 0 {
		t.Fatalf("services left by a removed block with deregister_on_exit: %v", s)
	}

	// Stopped, with deregister_on_exit: the service goes with drcon.
	reload(registrator(true, "three"), func(_, started, _ []string) bool { return one(started, "r") })
	testenv.WaitFor(t, waitLimit, "the service registered again", tagged("three"))
	d.signal(syscall.SIGTERM)
	if code := d.exitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if s := services(t, c); len(s) != 0 {
		t.Fatalf("services left after a stop with deregister_on_exit: %v", s)
	}
}
