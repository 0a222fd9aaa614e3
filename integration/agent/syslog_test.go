package agent

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// TestSyslog: consul-template's syslog {} (with drcon's address for a
// syslog of the test's own) sends the log there as well as to stderr, and
// a reload that turns it off stops that.
func TestSyslog(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("k", "v")
	path := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	lines := make(chan string, 100)
	go func() {
		buf := make([]byte, 8192)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(lines)
				return
			}
			lines <- string(buf[:n])
		}
	}()
	waitLine := func(want string) string {
		t.Helper()
		deadline := time.After(waitLimit)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("the syslog socket closed")
				}
				if strings.Contains(l, want) {
					return l
				}
			case <-deadline:
				t.Fatalf("no syslog line with %q", want)
			}
		}
	}

	d := newDrcon(t)
	config := func(syslog string) string {
		return fmt.Sprintf("consul { address = %q }\n%s\ntemplate \"a\" {\n  contents = \"{{ key \\\"k\\\" }}\"\n  destination = \"$DIR/a.out\"\n}\n", c.Addr, syslog)
	}
	d.write(config(fmt.Sprintf("syslog {\n  facility = \"LOCAL3\"\n  name = \"drcon-it\"\n  address = %q\n}", "unix://"+path)))
	d.start()
	// LOCAL3 (19) x 8 + info (6) = 158.
	if got := waitLine(`msg="wrote destination" job=a`); !strings.HasPrefix(got, "<158>") || !strings.Contains(got, "drcon-it[") {
		t.Fatalf("syslog got %q", got)
	}
	// The line reaches stderr through a pipe the test reads: it may come
	// after the datagram.
	testenv.WaitFor(t, waitLimit, "the line on stderr too", func() bool { return d.countLog(`msg="wrote destination"`) == 1 })

	d.write(config(""))
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	c.PutKV("k", "w")
	testenv.WaitFor(t, waitLimit, "the render after the reload", func() bool { return d.read("a.out") == "w" })
	time.Sleep(200 * time.Millisecond)
	for drained := false; !drained; {
		select {
		case l := <-lines:
			if strings.Contains(l, "wrote destination") {
				t.Fatalf("syslog got a line after the reload turned it off: %q", l)
			}
		default:
			drained = true
		}
	}
}
