package agent

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// notifySocket is a systemd notification socket of the test's own.
type notifySocket struct {
	t    *testing.T
	conn *net.UnixConn
	path string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{t: t, conn: conn, path: path}
}

// next returns the next datagram, or "" when none comes within wait.
func (n *notifySocket) next(wait time.Duration) string {
	n.t.Helper()
	buf := make([]byte, 4096)
	_ = n.conn.SetReadDeadline(time.Now().Add(wait))
	k, err := n.conn.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:k])
}

// TestSystemdNotify: under a Type=notify unit (NOTIFY_SOCKET), drcon sends
// READY=1 only once every job is ready, as consul-template sends it once
// every template has rendered (both checked here on the same template), then
// again once a reload's jobs are ready, and STOPPING=1 when it stops.
func TestSystemdNotify(t *testing.T) {
	c := testenv.StartConsul(t)
	tmpl := `{{ key "notify/a" }}`

	// consul-template, the reference.
	ct := listenNotify(t)
	dir := t.TempDir()
	cmd := exec.Command(testenv.ConsulTemplate(t), "-consul-addr", c.Addr, "-template", "a.ctmpl:a.out")
	cmd.Dir = dir
	cmd.Env = append(cmd.Environ(), "NOTIFY_SOCKET="+ct.path)
	if err := os.WriteFile(filepath.Join(dir, "a.ctmpl"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Start(t, "consul-template", cmd)
	if got := ct.next(time.Second); got != "" {
		t.Fatalf("consul-template notified %q before the key existed", got)
	}

	n := listenNotify(t)
	t.Setenv("NOTIFY_SOCKET", n.path)
	d := newDrcon(t)
	config := func(extra string) string {
		return fmt.Sprintf("consul { address = %q }\ntemplate \"a\" {\n  contents = %q\n  destination = \"$DIR/a.out\"\n}\n%s",
			c.Addr, tmpl, extra)
	}
	d.write(config(""))
	d.start()
	if got := n.next(time.Second); got != "" {
		t.Fatalf("drcon notified %q before its template rendered", got)
	}

	c.PutKV("notify/a", "1")
	if got := ct.next(waitLimit); got != "READY=1" {
		t.Fatalf("consul-template sent %q, want READY=1", got)
	}
	if got := n.next(waitLimit); !strings.HasPrefix(got, "READY=1\n") || d.read("a.out") != "1" {
		t.Fatalf("drcon sent %q with %q rendered, want READY=1 after the render", got, d.read("a.out"))
	}

	// A reload that adds a job waiting for data: READY=1 once it has it.
	d.write(config(fmt.Sprintf("template \"b\" {\n  contents = %q\n  destination = \"$DIR/b.out\"\n}\n", `{{ key "notify/b" }}`)))
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	if got := n.next(time.Second); got != "" {
		t.Fatalf("drcon notified %q before the new template rendered", got)
	}
	c.PutKV("notify/b", "2")
	if got := n.next(waitLimit); got != "READY=1\nSTATUS=2 jobs ready" {
		t.Fatalf("after the reload drcon sent %q", got)
	}

	d.signal(syscall.SIGTERM)
	if got := n.next(waitLimit); got != "STOPPING=1" {
		t.Fatalf("on SIGTERM drcon sent %q, want STOPPING=1", got)
	}
	if code := d.exitCode(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
