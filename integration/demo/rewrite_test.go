package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var testPaths = Paths{Nginx: "/tmp/stack/nginx", Haproxy: "/tmp/stack/haproxy", ConsulAddr: "127.0.0.1:20500",
	StatusAddr: "127.0.0.1:20090", ProxyAddr: "127.0.0.1:20080"}

func TestRewrite(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"consul and status", `address = "127.0.0.1:8500"` + "\n" + `address = "127.0.0.1:8090"`,
			`address = "127.0.0.1:20500"` + "\n" + `address = "127.0.0.1:20090"`},
		{"nginx paths", "include /etc/nginx/drcon/upstreams.conf;\npid /run/nginx.pid;\nerror_log /var/log/nginx/error.log warn;",
			"include /tmp/stack/nginx/drcon/upstreams.conf;\npid /tmp/stack/nginx/nginx.pid;\nerror_log /tmp/stack/nginx/logs/error.log warn;"},
		{"listen", "listen 80;\nlisten 80 default_server;\nlisten 8080;",
			"listen 127.0.0.1:20080;\nlisten 127.0.0.1:20080 default_server;\nlisten 8080;"},
		{"haproxy", "bind :80\ncommand = \"systemctl reload haproxy\"\ndestination = \"/etc/haproxy/haproxy.cfg\"",
			"bind 127.0.0.1:20080\ncommand = \"kill -USR2 $(cat /tmp/stack/haproxy/haproxy.pid)\"\ndestination = \"/tmp/stack/haproxy/haproxy.cfg\""},
		{"nothing else", "proxy_pass http://web;\nserver 127.0.0.1:65535;", "proxy_pass http://web;\nserver 127.0.0.1:65535;"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := testPaths.Rewrite(c.in); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestRewriteExamples shows, file by file, how the stack's configuration
// differs from what users install: only paths and ports.
func TestRewriteExamples(t *testing.T) {
	root := filepath.Join("..", "..", "examples")
	var files []string
	for _, pattern := range []string{"*", "*/*"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		base := filepath.Base(f)
		if !strings.HasSuffix(base, ".hcl") && !strings.HasSuffix(base, ".ctmpl") && base != "nginx.conf" {
			continue
		}
		rel, _ := filepath.Rel(root, f)
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, filepath.Join("rewrite", rel), testPaths.Rewrite(string(b)))
		n++
	}
	if n == 0 {
		t.Fatal("no example found")
	}
}
