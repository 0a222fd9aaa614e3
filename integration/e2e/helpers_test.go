// Package e2e runs drcon's examples end to end against real Consul, Docker,
// nginx and haproxy: the DR CoN scenario of `make demo` with its promises
// asserted, routing by tags, haproxy, and the packaging examples (systemd
// unit, Dockerfile, docker-compose file). Every file in examples/ is
// exercised here.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
)

// startStack runs Consul, drcon with the configuration of the example
// directory (relative to examples/), and nginx with examples/nginx.conf
// unless withNginx is false; adjust changes the options further. Its drcon
// registers only the test's containers; everything is stopped when the
// test ends.
func startStack(t *testing.T, example string, withNginx bool, adjust ...func(*demo.Options)) *demo.Stack {
	t.Helper()
	testenv.Docker(t)
	root := testenv.RepoRoot(t)
	bins := demo.Binaries{Drcon: testenv.Drcon(t)}
	var err error
	if bins.Consul, err = testenv.ConsulBinary(); err != nil {
		testenv.Missing(t, "consul", "run integration/scripts/build-consul.sh", err)
	}
	if bins.Nginx, err = testenv.NginxBinary(); err != nil {
		testenv.Missing(t, "nginx", "apt-get install -y nginx", err)
	}
	id := make([]byte, 6)
	_, _ = rand.Read(id)
	label := "e2e-" + hex.EncodeToString(id)
	o := demo.Options{Dir: t.TempDir(), Example: filepath.Join(root, "examples", example), Binaries: bins,
		Label: label, Edits: []demo.Edit{demo.OnlyLabeled(demo.ContainerLabel, label)}}
	if withNginx {
		o.NginxConf = filepath.Join(root, "examples", "nginx.conf")
	}
	for _, a := range adjust {
		a(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := demo.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of the stack: %s", st.Logs())
		}
		if err := st.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return st
}

// get sends one request through the proxy and returns the status code and
// the trimmed body ("" and the error text on a transport error).
func get(addr, host, path string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Host = host
	c := http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// waitServes waits until requests for host and path are answered 200 by
// exactly the given backends (container hostnames), all of them.
func waitServes(t *testing.T, st *demo.Stack, host, path string, backends ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, b := range backends {
		want[b] = true
	}
	testenv.WaitFor(t, 30*time.Second, host+path+" served by "+strings.Join(backends, ", "), func() bool {
		seen := map[string]bool{}
		for range 4 * len(backends) {
			code, body := get(st.Paths.ProxyAddr, host, path)
			if code != http.StatusOK || !want[body] {
				return false
			}
			seen[body] = true
		}
		return len(seen) == len(want)
	})
}

// run starts a container of the demo service on the stack.
func run(t *testing.T, st *demo.Stack, args ...string) demo.Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append([]string{"-p", "127.0.0.1::80", "-e", "DRAIN=0s"}, args...)
	c, err := st.Run(ctx, testenv.BuildWhoami(t), args...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// docker runs the docker CLI and fails the test on error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := demo.Docker(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
