package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// TestReloadsLeakNothing: twenty reloads in a row, each restarting a job,
// leave the goroutines and open file descriptors where they were
// (consul-template #1067: descriptors grow on every SIGHUP).
func TestReloadsLeakNothing(t *testing.T) {
	c := testenv.StartConsul(t)
	for _, k := range []string{"shared", "b", "c"} {
		c.PutKV(k, "v1")
	}
	d := newDrcon(t)
	version := func(i int) string {
		// b alternates between two texts; every other one adds a
		// dependency, so that watchers start and stop too.
		if i%2 == 0 {
			return bFirst
		}
		return fmt.Sprintf(`b {{ key "shared" }} {{ key "b" }} {{ keyOrDefault "extra" "none" }} %d`, i)
	}
	d.write(threeJobs(c.Addr, version(0), ""))
	d.start()
	d.waitHealthy()
	reload := func(i int) {
		d.write(threeJobs(c.Addr, version(i), ""))
		if st := d.reload(); st.Outcome != "ok" {
			t.Fatalf("reload %d: %+v", i, st)
		}
		d.waitHealthy()
	}
	// Two reloads first, so that what is made once (connections, timers)
	// is counted in the baseline.
	reload(1)
	reload(2)
	goroutines, fds := d.metric("go_goroutines"), d.fds()
	for i := 3; i < 23; i++ {
		reload(i)
	}
	// The Consul client may keep an idle keep-alive connection (a socket
	// and two goroutines) for each dependency that was fetched at the same
	// time as another, until its idle timeout: at most maxIdle here, however
	// many reloads there were. A leak would grow with the twenty reloads.
	const maxIdle = 4
	var lastG float64
	var lastF int
	deadline := time.Now().Add(waitLimit)
	for {
		lastG, lastF = d.metric("go_goroutines"), d.fds()
		if lastG <= goroutines+2*maxIdle && lastF <= fds+maxIdle {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 reloads: %v goroutines, %d fds; after 22: %v goroutines, %d fds\n%s",
				goroutines, fds, lastG, lastF, fdList(d.pid()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after 2 reloads: %v goroutines, %d fds; after 22: %v goroutines, %d fds", goroutines, fds, lastG, lastF)
	if n := d.metric("drcon_reloads_total", "outcome", "ok"); n != 22 {
		t.Fatalf("drcon_reloads_total{outcome=ok} = %v, want 22", n)
	}
}

// fdList describes a process's open descriptors, for a failure message.
func fdList(pid int) string {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join(dir, e.Name()))
		out = append(out, e.Name()+" -> "+target)
	}
	return strings.Join(out, "\n")
}
