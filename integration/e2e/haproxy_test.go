package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// TestHAProxyExample: examples/haproxy renders the whole haproxy.cfg,
// haproxy -c checks each candidate, and a reload (USR2 to the master, what
// `systemctl reload haproxy` sends) puts it in service.
func TestHAProxyExample(t *testing.T) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		bin = "/usr/sbin/haproxy"
		if _, serr := os.Stat(bin); serr != nil {
			testenv.Missing(t, "haproxy", "apt-get install -y haproxy (integration/scripts/setup.sh --haproxy)", err)
		}
	}
	st := startStack(t, "haproxy", false)
	cfg := filepath.Join(st.Paths.Haproxy, "haproxy.cfg")
	// drcon rendered it before haproxy ran (its reload then found nothing
	// to signal, which it logged); haproxy starts on the rendered file.
	testenv.Start(t, "haproxy", exec.Command(bin, "-W", "-p", filepath.Join(st.Paths.Haproxy, "haproxy.pid"), "-f", cfg))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.WaitProxy(ctx); err != nil {
		t.Fatal(err)
	}

	a := run(t, st, "-l", "SERVICE_NAME=whoami", "-l", "SERVICE_TAGS=http")
	b := run(t, st, "-l", "SERVICE_NAME=whoami", "-l", "SERVICE_TAGS=http")
	waitServes(t, st, "whoami", "/", a.Host(), b.Host())
	waitServes(t, st, "whoami.example.com:80", "/", a.Host(), b.Host())
	if code, _ := get(st.Paths.ProxyAddr, "other", "/"); code != 404 {
		t.Errorf("an unknown host: %d, want 404", code)
	}
	s := jobStatus(t, st, "haproxy")
	if s.Check == nil || s.Check.ExitCode != 0 || !strings.Contains(s.Check.Command, "haproxy -c") {
		t.Errorf("check: %+v", s.Check)
	}

	docker(t, "rm", "-f", a.ID)
	waitServes(t, st, "whoami", "/", b.Host())
	if s := jobStatus(t, st, "haproxy"); s.Command == nil || s.Command.ExitCode != 0 {
		t.Errorf("the reload: %+v", s.Command)
	}
	if b, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(b), "backend whoami") {
		t.Errorf("%s: %v\n%s", cfg, err, b)
	}
}
