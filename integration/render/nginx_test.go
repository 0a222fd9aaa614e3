// Package render_test runs template jobs against a real nginx: the job
// renders an upstream, checks each candidate with nginx -t, and reloads
// nginx; traffic follows the data, and bad data never reaches nginx.
package render_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

// upstreamTemplate is what users write: an upstream of a service's passing
// instances, with extra directives from KV.
const upstreamTemplate = `upstream drcon_web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }};
{{- end }}
  {{ key "nginx/upstream-extra" }}
}
`

// checkRecipe is the check users copy (see the package doc of
// jobs/render): nginx -t on a copy of nginx.conf in which the destination's
// include line names the candidate instead. The copy lives beside
// nginx.conf so that relative paths resolve the same.
func checkRecipe(n *testenv.Nginx, dest string) string {
	return fmt.Sprintf(`main=%[1]s/.drcon-check-$$.conf
trap 'rm -f "$main"' EXIT
sed "s#include %[2]s;#include $DRCON_CANDIDATE;#" %[3]s >"$main"
%[4]s -t -q -p %[1]s -c "$main"`, filepath.Dir(n.Conf), dest, n.Conf, n.Binary())
}

func backend(t *testing.T, body string) (host string, port int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	a := srv.Listener.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func TestNginxFollowsTheDataAndRefusesBadData(t *testing.T) {
	hostA, portA := backend(t, "A")
	hostB, portB := backend(t, "B")

	// The server block names the upstream through a variable, so that
	// nginx starts before drcon rendered the upstream (it answers 502
	// until then), as the DR CoN container does.
	n := testenv.StartNginx(t, map[string]string{"server.conf": `server {
  listen 127.0.0.1:{{port}};
  location / { set $up drcon_web; proxy_pass http://$up; }
}`})
	// The recommended layout: drcon's file has its own include line.
	dest := filepath.Join(t.TempDir(), "drcon", "upstreams.conf")
	main := strings.Replace(n.MainConf(), "include "+n.ConfDir+"/*.conf;",
		"include "+n.ConfDir+"/*.conf;\n  include "+dest+";", 1)
	if err := os.WriteFile(n.Conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}

	store := rendertest.NewStore()
	store.SetService("web", rendertest.Instance("web", hostA, portA))
	store.SetKey("nginx/upstream-extra", "keepalive 4;")
	cfg := &config.Template{Name: "nginx", Text: upstreamTemplate, Destination: dest, CreateDestDirs: true,
		Atomic: true, CommandTimeout: 30 * time.Second, OnCommandFailure: "log",
		Check:   config.Command{Shell: checkRecipe(n, dest)},
		Command: config.Command{Argv: n.ReloadCommand()}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runner := render.NewCommandRunner(render.CommandRunnerOptions{})
	job, err := render.New(cfg, store.Subscribe(), render.Options{Commands: runner})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() { done <- runner.Run(ctx) }()
	go func() { done <- job.Run(ctx) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()

	get := func() string {
		resp, err := http.Get("http://" + n.Addr() + "/")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	serves := func(body string) {
		t.Helper()
		testenv.WaitFor(t, 30*time.Second, "nginx to serve "+body, func() bool { return get() == body })
	}
	commands := func() time.Time {
		if c := job.Status().Command; c != nil {
			return c.At
		}
		return time.Time{}
	}

	serves("A")
	store.SetService("web", rendertest.Instance("web", hostB, portB))
	serves("B")
	live, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	lastReload := commands()

	// Data that would break nginx: the check refuses it, the live file
	// stays, nginx is not reloaded and keeps serving.
	for _, bad := range []struct {
		name   string
		change func()
		nginx  string // what nginx -t says
	}{
		{"bad KV value", func() { store.SetKey("nginx/upstream-extra", "keepalive four;") }, "invalid value"},
		{"no instance", func() {
			store.SetKey("nginx/upstream-extra", "keepalive 4;")
			store.SetService("web")
		}, "no servers are inside upstream"},
	} {
		lastCheck := job.Status().Check.At
		bad.change()
		testenv.WaitFor(t, 30*time.Second, "the check to refuse "+bad.name, func() bool {
			s := job.Status()
			return s.State == render.StateRefused && s.Check.At.After(lastCheck) && strings.Contains(s.LastError, bad.nginx)
		})
		if b, _ := os.ReadFile(dest); string(b) != string(live) {
			t.Errorf("%s: the live file changed:\n%s", bad.name, b)
		}
		if !commands().Equal(lastReload) {
			t.Errorf("%s: nginx was reloaded", bad.name)
		}
		for range 5 {
			if got := get(); got != "B" {
				t.Fatalf("%s: nginx answered %q, want it to keep serving B", bad.name, got)
			}
		}
		if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(n.Conf), ".drcon-check-*")); len(leftovers) > 0 {
			t.Errorf("the check left %v", leftovers)
		}
	}

	// Good data again goes live.
	store.SetService("web", rendertest.Instance("web", hostA, portA), rendertest.Instance("web", hostB, portB))
	testenv.WaitFor(t, 30*time.Second, "nginx to balance over A and B", func() bool {
		seen := map[string]bool{}
		for range 6 {
			seen[get()] = true
		}
		return seen["A"] && seen["B"] && len(seen) == 2
	})
	if s := job.Status(); s.State != render.StateIdle || s.LastError != "" || s.Writes != 3 {
		t.Errorf("status %+v: want idle, no error, 3 writes", s)
	}
}
