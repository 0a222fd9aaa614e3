package agent

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// TestExecSupervisesNginx is consul-template's exec mode as containers use
// it: drcon runs nginx in the foreground, renders its upstreams from
// Consul, and sends it SIGHUP when they change. A request loop through
// nginx sees the new backend without a failed request, nginx keeps its
// pid, and SIGQUIT to drcon reaches nginx, which finishes and exits 0, and
// drcon with it.
func TestExecSupervisesNginx(t *testing.T) {
	n := testenv.PrepareNginx(t, map[string]string{"server.conf": `server {
  listen 127.0.0.1:{{port}};
  location / { proxy_pass http://web; }
}
`})
	proxyUnderExec(t, execProxy{
		argv:         n.Command(),
		reloadSignal: "SIGHUP",
		killSignal:   "SIGQUIT",
		template:     "upstream web {\n{{ range service \"web\" }}  server {{ .Address }}:{{ .Port }};\n{{ end }}}\n",
		destination:  n.ConfDir + "/upstreams.conf",
		addr:         n.Addr(),
		quit:         syscall.SIGQUIT,
	})
}

// TestExecSupervisesHaproxy: the same with haproxy in master-worker mode,
// which reloads on SIGUSR2 (the master hands the listening socket to the
// new worker) and finishes its connections on SIGUSR1.
func TestExecSupervisesHaproxy(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		testenv.Missing(t, "haproxy", "apt-get install -y haproxy", err)
	}
	dir := t.TempDir()
	port := testenv.FreePort(t)
	cfg := filepath.Join(dir, "haproxy.cfg")
	proxyUnderExec(t, execProxy{
		argv:         []string{bin, "-W", "-db", "-f", cfg},
		reloadSignal: "SIGUSR2",
		killSignal:   "SIGUSR1",
		template: fmt.Sprintf(`defaults
  mode http
  timeout connect 2s
  timeout client 10s
  timeout server 10s
frontend web
  bind 127.0.0.1:%d
  default_backend web
backend web
{{- range service "web" }}
  server {{ .ID }} {{ .Address }}:{{ .Port }}
{{- end }}
`, port),
		destination: cfg,
		addr:        fmt.Sprintf("127.0.0.1:%d", port),
		quit:        syscall.SIGUSR1,
	})
}

// execProxy is a load balancer that drcon runs in exec mode.
type execProxy struct {
	argv                     []string
	reloadSignal, killSignal string
	template, destination    string
	addr                     string         // where it serves, on loopback
	quit                     syscall.Signal // sent to drcon, passed on: the proxy finishes and exits 0
}

// proxyUnderExec runs p under drcon in front of backend A, moves the
// service from A to B in Consul under a request loop, and checks that no
// request failed, that the proxy was reloaded and not restarted, and that
// p.quit, right after a reload, ends the proxy and drcon with exit code 0.
func proxyUnderExec(t *testing.T, p execProxy) {
	t.Helper()
	c := testenv.StartConsul(t)
	backend := func(name string) int {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }))
		t.Cleanup(s.Close)
		return s.Listener.Addr().(*net.TCPAddr).Port
	}
	portA, portB := backend("A"), backend("B")
	c.Register(&api.AgentServiceRegistration{ID: "web-a", Name: "web", Address: "127.0.0.1", Port: portA})

	d := newDrcon(t)
	var argv []string
	for _, a := range p.argv {
		argv = append(argv, fmt.Sprintf("%q", a))
	}
	d.write(fmt.Sprintf(`consul { address = %q }
exec {
  command       = [%s]
  reload_signal = %q
  kill_signal   = %q
}
template "proxy" {
  contents    = %q
  destination = %q
}
`, c.Addr, strings.Join(argv, ", "), p.reloadSignal, p.killSignal, p.template, p.destination))
	d.start()
	get := func() (string, error) {
		resp, err := client.Get("http://" + p.addr + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return string(b), err
	}
	testenv.WaitFor(t, waitLimit, "the proxy to answer", func() bool {
		got, _ := get()
		return got == "A"
	})
	proxyPID := d.statusDoc().Exec.PID

	var requests, failures atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			requests.Add(1)
			if _, err := get(); err != nil {
				failures.Add(1)
				lastErr.Store(err.Error())
			}
		}
	}()
	c.Register(&api.AgentServiceRegistration{ID: "web-b", Name: "web", Address: "127.0.0.1", Port: portB})
	if err := c.Client().Agent().ServiceDeregister("web-a"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the proxy to send requests to B", func() bool {
		got, _ := get()
		return got == "B"
	})
	time.Sleep(300 * time.Millisecond) // the loop keeps going past the switch
	close(stop)
	<-loopDone
	if f := failures.Load(); f > 0 {
		t.Fatalf("%d of %d requests failed during the change; last: %v", f, requests.Load(), lastErr.Load())
	}
	st := d.statusDoc().Exec
	if st == nil || st.PID != proxyPID || st.Reloads == 0 || st.Restarts != 0 {
		t.Fatalf("exec status %+v: want %d reloaded, not restarted", st, proxyPID)
	}
	t.Logf("%d requests through the proxy during the change, none failed; %d reloads", requests.Load(), st.Reloads)
	if got := d.metric("drcon_exec_actions_total", "action", "reload"); got != float64(st.Reloads) {
		t.Errorf("drcon_exec_actions_total{action=reload} = %v, status says %d", got, st.Reloads)
	}
	if got := d.metric("drcon_exec_running"); got != 1 {
		t.Errorf("drcon_exec_running = %v", got)
	}

	// The stop comes right after one more reload: haproxy's master, which
	// re-executes itself for it, drops the signals that come meanwhile.
	c.Register(&api.AgentServiceRegistration{ID: "web-b2", Name: "web", Address: "127.0.0.1", Port: portB})
	testenv.WaitFor(t, waitLimit, "one more reload", func() bool { return d.statusDoc().Exec.Reloads > st.Reloads })
	d.signal(p.quit)
	if code := d.exitCode(); code != 0 {
		t.Fatalf("drcon exited %d after the proxy's graceful stop, want its 0", code)
	}
	if syscall.Kill(proxyPID, 0) == nil {
		t.Fatalf("the proxy %d still runs", proxyPID)
	}
}

// execChild is a child that logs to $DIR/child.log: "start PID VALUE" with
// the rendered file's content, "usr1 PID" for SIGUSR1; it exits with the
// code in $DIR/exit-code once that file appears, and with 3 on SIGINT. It
// logs its start once its traps are set: a signal sent after the start is
// logged is caught, not the default action that ends the shell.
const execChild = `
trap 'echo "usr1 $$" >> "$DIR/child.log"' USR1
trap 'exit 3' INT
echo "start $$ $(cat "$DIR/out") $MARK" >> "$DIR/child.log"
while [ ! -f "$DIR/exit-code" ]; do sleep 0.05; done
exit "$(cat "$DIR/exit-code")"
`

// TestExecLifecycle: the child starts only once every template has
// rendered, and sees their files; a change restarts it when there is no
// reload signal; a reload that leaves exec {} alone keeps it (consul-
// template restarts it on every SIGHUP, #945), one that changes it
// restarts it; drcon passes on a signal it has no use for; and when the
// child exits, drcon exits with its code. A template with
// exec_on_change = "none" leaves the child alone.
func TestExecLifecycle(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("a", "1")
	d := newDrcon(t)
	childScript := d.path("child.sh")
	if err := os.WriteFile(childScript, []byte(execChild), 0o755); err != nil {
		t.Fatal(err)
	}
	config := func(mark string) string {
		return fmt.Sprintf(`consul { address = %q }
exec {
  command = ["/bin/sh", %q]
  env { custom = ["DIR=$DIR", "MARK=%s"] }
}
template "a" {
  contents    = "{{ key \"a\" }}-{{ key \"b\" }}"
  destination = "$DIR/out"
}
template "quiet" {
  contents       = "{{ key \"a\" }}"
  destination    = "$DIR/quiet"
  exec_on_change = "none"
}
`, c.Addr, childScript, mark)
	}
	d.write(config("m1"))
	d.start()
	starts := func() []string {
		return slices.DeleteFunc(strings.Split(strings.TrimSpace(d.read("child.log")), "\n"), func(s string) bool { return !strings.HasPrefix(s, "start") })
	}
	// recorded waits until the status names the child of the last start,
	// and returns its pid: the child logs its start before drcon records it
	// (and counts a restart).
	recorded := func() int {
		t.Helper()
		got := starts()
		pid, err := strconv.Atoi(strings.Fields(got[len(got)-1])[1])
		if err != nil {
			t.Fatalf("start line %q: %v", got[len(got)-1], err)
		}
		testenv.WaitFor(t, waitLimit, fmt.Sprintf("the status to name the child %d", pid), func() bool {
			return d.statusDoc().Exec.PID == pid
		})
		return pid
	}
	restarts := func(n uint64) {
		t.Helper()
		testenv.WaitFor(t, waitLimit, fmt.Sprintf("restart %d counted", n), func() bool { return d.statusDoc().Exec.Restarts >= n })
	}
	time.Sleep(500 * time.Millisecond)
	if got := d.read("child.log"); got != "" || !d.statusDoc().Exec.Waiting {
		t.Fatalf("the child ran before the template rendered: %q", got)
	}
	c.PutKV("b", "1")
	testenv.WaitFor(t, waitLimit, "the child", func() bool { return len(starts()) == 1 })
	if got := starts()[0]; !strings.HasSuffix(got, " 1-1 m1") {
		t.Fatalf("first start: %q, want it to see the rendered file", got)
	}

	c.PutKV("b", "2")
	testenv.WaitFor(t, waitLimit, "a restart", func() bool { return len(starts()) == 2 })
	restarts(1)
	if got := starts()[1]; !strings.HasSuffix(got, " 1-2 m1") || d.statusDoc().Exec.Restarts != 1 {
		t.Fatalf("after the change: %q, %+v", got, d.statusDoc().Exec)
	}

	// A template with exec_on_change = "none" changes its file alone.
	c.PutKV("a", "2")
	testenv.WaitFor(t, waitLimit, "the quiet template", func() bool { return d.read("quiet") == "2" })
	testenv.WaitFor(t, waitLimit, "a restart for template a", func() bool { return len(starts()) == 3 })
	restarts(2)
	time.Sleep(300 * time.Millisecond)
	if got := starts(); len(got) != 3 || d.statusDoc().Exec.Restarts != 2 {
		t.Fatalf("a change of both templates: %q, %+v; want one restart", got, d.statusDoc().Exec)
	}

	pid := recorded()
	d.write(config("m1") + "log_level = \"debug\"\n")
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	time.Sleep(300 * time.Millisecond)
	if got := d.statusDoc().Exec.PID; got != pid || len(starts()) != 3 {
		t.Fatalf("a reload that left exec {} alone restarted the child: pid %d, was %d; %q", got, pid, starts())
	}
	d.write(config("m1") + `template "other" {
  contents    = "x"
  destination = "$DIR/other"
}
`)
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	testenv.WaitFor(t, waitLimit, "the new template", func() bool { return d.read("other") == "x" })
	// The new template's first file is a change: the child restarts for it.
	testenv.WaitFor(t, waitLimit, "a restart for the new file", func() bool { return len(starts()) == 4 })
	pid = recorded()

	d.signal(syscall.SIGUSR1)
	testenv.WaitFor(t, waitLimit, "SIGUSR1 passed on", func() bool {
		return strings.Contains(d.read("child.log"), fmt.Sprintf("usr1 %d", pid))
	})

	d.write(config("m2"))
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	testenv.WaitFor(t, waitLimit, "a restart for the new exec {}", func() bool { return len(starts()) == 5 })
	if got := starts()[4]; !strings.HasSuffix(got, " m2") {
		t.Fatalf("after the exec change: %q", got)
	}

	if err := os.WriteFile(d.path("exit-code"), []byte("7"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code := d.exitCode(); code != 7 {
		t.Fatalf("drcon exited %d, want the child's 7", code)
	}
}

// execWrapper is an entrypoint script of the kind containers run: it starts
// a helper in the background (its pid in $DIR/helper.pid) and handles the
// reload signal itself, logging "hup" to $DIR/child.log.
const execWrapper = `#!/bin/sh
trap 'echo hup >> "$DIR/child.log"' HUP
sleep 1000 &
echo $! > "$DIR/helper.pid"
while :; do sleep 0.05; done
`

// TestExecWrapperKeepsItsHelpers: an exec command of one word (-exec
// /entrypoint.sh) runs without a shell, as in consul-template, and the
// reload signal reaches that program alone: the helper its script started
// in the background does not die of a SIGHUP meant for the script.
func TestExecWrapperKeepsItsHelpers(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("a", "1")
	d := newDrcon(t)
	if err := os.WriteFile(d.path("wrapper.sh"), []byte(execWrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	d.write(fmt.Sprintf(`consul { address = %q }
exec {
  command       = "$DIR/wrapper.sh"
  reload_signal = "SIGHUP"
  kill_signal   = "SIGTERM"
  env { custom = ["DIR=$DIR"] }
}
template "a" {
  contents    = "{{ key \"a\" }}"
  destination = "$DIR/out"
}
`, c.Addr))
	d.start()
	var helper int
	t.Cleanup(func() {
		// The helper holds drcon's output open, and a script in a process
		// group of its own would outlive drcon's: stop both before the
		// test's end kills drcon's group.
		if helper > 0 {
			_ = syscall.Kill(helper, syscall.SIGKILL)
		}
		d.signal(syscall.SIGTERM)
		d.exitCode()
	})
	testenv.WaitFor(t, waitLimit, "the helper", func() bool {
		n, err := strconv.Atoi(strings.TrimSpace(d.read("helper.pid")))
		helper = n
		return err == nil && n > 0
	})
	c.PutKV("a", "2")
	testenv.WaitFor(t, waitLimit, "the script to get SIGHUP", func() bool { return strings.Contains(d.read("child.log"), "hup") })
	// A SIGHUP sent to the script's process group reaches the helper at the
	// same time as the script, which logged it.
	if !running(helper) {
		t.Fatalf("the wrapper's helper %d died of the reload signal sent to the wrapper", helper)
	}
	// The script can log the signal before drcon counts the reload.
	testenv.WaitFor(t, waitLimit, "the reload counted", func() bool { st := d.statusDoc().Exec; return st != nil && st.Reloads >= 1 })
	if st := d.statusDoc().Exec; st == nil || st.Reloads != 1 || st.Restarts != 0 {
		t.Fatalf("exec status %+v: want one reload", st)
	}
}

// running reports whether pid is a process that has not exited (a zombie
// has).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}
