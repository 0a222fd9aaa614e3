package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/integration/testenv"
)

// TestConsulTemplateFlags: consul-template's common flags, given the same
// way to consul-template v0.41.1 and to drcon, render the same bytes and
// run the commands with the same Consul environment.
func TestConsulTemplateFlags(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "alpha")
	c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 8081})
	c.Register(&api.AgentServiceRegistration{ID: "web-2", Name: "web", Address: "127.0.0.1", Port: 8082})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.ctmpl":   "a={{ key \"app/a\" }}\n{{ range service \"web\" }}server {{ .Address }}:{{ .Port }};\n{{ end }}",
		"env.ctmpl": "addr={{ env \"CONSUL_HTTP_ADDR\" }} token={{ env \"CONSUL_HTTP_TOKEN\" }}\n",
	})
	bins := map[string]string{"ct": testenv.ConsulTemplate(t), "drcon": testenv.Drcon(t)}
	for name, bin := range bins {
		r := run(t, dir, bin,
			"-once",
			"-consul-addr", c.Addr,
			"-consul-token", "anonymous-token",
			"-template", "a.ctmpl:"+name+"/a.conf:env | grep ^CONSUL_HTTP_ | sort > "+name+"/env.txt",
			"-template", "env.ctmpl:"+name+"/env.conf",
			"-wait", "100ms:1s",
			"-log-level", "debug",
			"-max-stale", "1s",
			"-kill-signal", "SIGTERM",
			"-reload-signal", "SIGUSR2",
			"-pid-file", filepath.Join(dir, name+".pid"),
		)
		expect(t, name+" -once", r, 0)
		if !strings.Contains(strings.ToLower(r.stderr), "debug") {
			t.Errorf("%s: -log-level debug logged no debug line:\n%s", name, r.stderr)
		}
		v := run(t, dir, bin, "-version")
		expect(t, name+" -version", v, 0)
		if !strings.Contains(v.stdout+v.stderr, "v") {
			t.Errorf("%s -version printed %q", name, v.stdout+v.stderr)
		}
	}
	for _, f := range []string{"a.conf", "env.conf", "env.txt"} {
		ct, dr := read(t, dir, "ct/"+f), read(t, dir, "drcon/"+f)
		if ct == "" || ct != dr {
			t.Errorf("%s: consul-template wrote %q, drcon %q", f, ct, dr)
		}
	}
	if env := read(t, dir, "drcon/env.txt"); !strings.Contains(env, "CONSUL_HTTP_TOKEN=anonymous-token") {
		t.Errorf("the command's environment lacks the token: %q", env)
	}
}

// TestSignalFlags: -kill-signal and -reload-signal replace the signals,
// -pid-file names the pid file, and -template jobs run next to those of
// -config.
func TestSignalFlags(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "alpha")
	dir := t.TempDir()
	status := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	writeFiles(t, dir, map[string]string{
		"drcon.hcl": fmt.Sprintf("status { address = %q }\n", status),
		"a.ctmpl":   "a={{ key \"app/a\" }}\n",
	})
	pidFile := filepath.Join(dir, "drcon.pid")
	cmd := exec.Command(testenv.Drcon(t), "-config", "drcon.hcl", "-consul-addr", c.Addr,
		"-template", "a.ctmpl:a.conf", "-kill-signal", "SIGUSR1", "-reload-signal", "SIGUSR2", "-pid-file", pidFile)
	cmd.Dir = dir
	p := testenv.Start(t, "drcon", cmd)
	testenv.WaitFor(t, runLimit, "the render", func() bool { return read(t, dir, "a.conf") == "a=alpha\n" })
	if pid := strings.TrimSpace(read(t, dir, "drcon.pid")); pid != fmt.Sprint(cmd.Process.Pid) {
		t.Fatalf("pid file %q, want %d", pid, cmd.Process.Pid)
	}

	lastReload := func() *agent.ReloadStatus {
		resp, err := http.Get("http://" + status + "/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st agent.Status
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatal(err)
		}
		return st.LastReload
	}
	if err := p.Signal(syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, runLimit, "the reload by SIGUSR2", func() bool {
		r := lastReload()
		return r != nil && r.Outcome == "unchanged"
	})

	if err := p.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	if err, ok := p.Wait(runLimit); !ok || err != nil {
		t.Fatalf("after SIGUSR1: %v (exited: %t)\n%s", err, ok, p.Output())
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("pid file left: %v", err)
	}
}
