package agent

import (
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
)

// syslogListener is a datagram socket standing in for syslog.
func syslogListener(t *testing.T) (*net.UnixConn, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, path
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 8192)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("nothing reached syslog: %v", err)
	}
	return string(buf[:n])
}

// Each level goes out with its severity under the facility, tagged with the
// name, without the time attribute (syslog stamps its own); stderr gets
// every line too.
func TestSyslogCopy(t *testing.T) {
	conn, path := syslogListener(t)
	var stderr strings.Builder
	l := NewLogging(&stderr, "debug", "text")
	if err := l.SetSyslog(config.Syslog{Enabled: true, Facility: "LOCAL5", Name: "drcon-test", Address: "unix://" + path}); err != nil {
		t.Fatal(err)
	}
	log := l.Logger().With("job", "web")
	const local5 = 21 << 3
	for _, tc := range []struct {
		log      func(string, ...any)
		severity int
	}{{log.Debug, 7}, {log.Info, 6}, {log.Warn, 4}, {log.Error, 3}} {
		tc.log("hello", "n", 1)
		got := receive(t, conn)
		prefix := "<" + strconv.Itoa(local5+tc.severity) + ">"
		if !strings.HasPrefix(got, prefix) || !strings.Contains(got, "drcon-test[") ||
			!strings.Contains(got, `msg=hello job=web n=1`) || strings.Contains(got, "time=") {
			t.Errorf("syslog got %q, want %s... drcon-test[pid]: level=... msg=hello job=web n=1", got, prefix)
		}
	}
	if n := strings.Count(stderr.String(), "msg=hello"); n != 4 {
		t.Errorf("stderr has %d lines:\n%s", n, stderr.String())
	}

	// Turned off: nothing more reaches syslog.
	if err := l.SetSyslog(config.Syslog{}); err != nil {
		t.Fatal(err)
	}
	l.Logger().Info("after")
	_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := conn.Read(make([]byte, 100)); err == nil {
		t.Error("syslog still gets the log after it was turned off")
	}
}

func TestSyslogUnreachable(t *testing.T) {
	l := NewLogging(io.Discard, "info", "text")
	err := l.SetSyslog(config.Syslog{Enabled: true, Facility: "LOCAL0", Name: "drcon", Address: "unix:///nonexistent/log.sock"})
	if err == nil || !strings.Contains(err.Error(), "syslog unix:///nonexistent/log.sock") {
		t.Fatalf("SetSyslog: %v", err)
	}
}
