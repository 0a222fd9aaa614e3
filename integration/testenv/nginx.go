package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Nginx is an nginx of the test's own: its prefix, pid, logs and temp paths
// live in a temp dir, it listens on a loopback port, and its http block
// includes every *.conf file in ConfDir.
type Nginx struct {
	t       testing.TB
	bin     string
	proc    *Process
	Prefix  string
	Conf    string // main configuration file
	ConfDir string // included by the http block
	Port    int    // the port the test's server block is meant to listen on
}

// NginxBinary finds nginx: $DRCON_NGINX or PATH (Debian puts it in /usr/sbin).
func NginxBinary() (string, error) { return lookBinary("DRCON_NGINX", nil, "nginx") }

// StartNginx writes files (name -> content, relative to ConfDir; "{{port}}"
// in content is replaced by the listen port), starts nginx and waits until
// it accepts connections on Port.
func StartNginx(t testing.TB, files map[string]string) *Nginx {
	t.Helper()
	n := PrepareNginx(t, files)
	n.proc = Start(t, "nginx", exec.Command(n.bin, n.Command()[1:]...))
	n.WaitListening(10 * time.Second)
	return n
}

// PrepareNginx writes the files of StartNginx without starting nginx: the
// test runs Command under a supervisor of its own.
func PrepareNginx(t testing.TB, files map[string]string) *Nginx {
	t.Helper()
	bin, err := NginxBinary()
	if err != nil {
		Missing(t, "nginx", "apt-get install -y nginx", err)
	}
	n := &Nginx{t: t, bin: bin, Prefix: t.TempDir(), Port: FreePort(t)}
	n.ConfDir = filepath.Join(n.Prefix, "conf.d")
	n.Conf = filepath.Join(n.Prefix, "nginx.conf")
	for _, d := range []string{n.ConfDir, filepath.Join(n.Prefix, "logs"), filepath.Join(n.Prefix, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(n.Conf, []byte(n.MainConf()), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		n.WriteConf(name, content)
	}
	return n
}

// Command is the argv that runs this instance in the foreground.
func (n *Nginx) Command() []string {
	return []string{n.bin, "-p", n.Prefix, "-c", n.Conf, "-g", "daemon off;"}
}

// WaitListening waits until nginx accepts connections on Port.
func (n *Nginx) WaitListening(limit time.Duration) {
	n.t.Helper()
	WaitFor(n.t, limit, "nginx to listen", func() bool {
		c, err := net.DialTimeout("tcp", n.Addr(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// MainConf is the main configuration: everything under Prefix.
func (n *Nginx) MainConf() string {
	tmp := filepath.Join(n.Prefix, "tmp")
	return fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %[2]s/body;
  proxy_temp_path %[2]s/proxy;
  fastcgi_temp_path %[2]s/fastcgi;
  uwsgi_temp_path %[2]s/uwsgi;
  scgi_temp_path %[2]s/scgi;
  include %[3]s/*.conf;
}
`, n.Prefix, tmp, n.ConfDir)
}

// Addr is the loopback address of the test's server block.
func (n *Nginx) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// WriteConf writes one file into ConfDir, replacing {{port}}.
func (n *Nginx) WriteConf(name, content string) {
	n.t.Helper()
	content = replacePort(content, n.Port)
	if err := os.WriteFile(filepath.Join(n.ConfDir, name), []byte(content), 0o644); err != nil {
		n.t.Fatal(err)
	}
}

func replacePort(s string, port int) string {
	const marker = "{{port}}"
	out := []byte{}
	for i := 0; i < len(s); {
		if len(s)-i >= len(marker) && s[i:i+len(marker)] == marker {
			out = strconv.AppendInt(out, int64(port), 10)
			i += len(marker)
			continue
		}
		out = append(out, s[i])
		i++
	}
	return string(out)
}

// CheckCommand is the argv of `nginx -t` for this instance; the check of a
// template job appends nothing: candidates are checked by including them.
func (n *Nginx) CheckCommand() []string {
	return []string{n.bin, "-t", "-q", "-p", n.Prefix, "-c", n.Conf}
}

// ReloadCommand is the argv that reloads this instance.
func (n *Nginx) ReloadCommand() []string {
	return []string{n.bin, "-p", n.Prefix, "-c", n.Conf, "-s", "reload"}
}

// Binary is the nginx executable.
func (n *Nginx) Binary() string { return n.bin }

// Reload reloads the configuration and fails the test on error.
func (n *Nginx) Reload() {
	n.t.Helper()
	if out, err := exec.Command(n.bin, n.ReloadCommand()[1:]...).CombinedOutput(); err != nil {
		n.t.Fatalf("nginx reload: %v\n%s", err, out)
	}
}
