package render

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render/rendertest"
)

func TestCommandEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "HOME=/root", "NGINX_CONF=/etc/nginx", "NGINX_SECRET=s", "CONSUL_HTTP_ADDR=from-agent-env"}
	agent := []string{"CONSUL_HTTP_ADDR=127.0.0.1:8500"}
	for _, tc := range []struct {
		name string
		env  config.CommandEnv
		want []string
	}{
		{"none", config.CommandEnv{}, append(slices.Clone(environ), agent...)},
		{"allow and deny", config.CommandEnv{Allowlist: []string{"PATH", "NGINX_*"}, Denylist: []string{"*_SECRET"}, Custom: []string{"A=1"}},
			[]string{"PATH=/bin", "NGINX_CONF=/etc/nginx", "CONSUL_HTTP_ADDR=127.0.0.1:8500", "A=1"}},
		{"deny only", config.CommandEnv{Denylist: []string{"NGINX_*", "CONSUL_*"}},
			[]string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_ADDR=127.0.0.1:8500"}},
		{"pristine", config.CommandEnv{Pristine: true, Custom: []string{"PATH=/usr/bin", "CONSUL_HTTP_ADDR=override"}},
			[]string{"CONSUL_HTTP_ADDR=127.0.0.1:8500", "PATH=/usr/bin", "CONSUL_HTTP_ADDR=override"}},
	} {
		if got := Environment(environ, tc.env, agent); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// The command runs with exec { env { } }'s environment, as in
// consul-template: here pristine, so only drcon's variables and the custom
// ones.
func TestCommandRunsWithItsEnvironment(t *testing.T) {
	t.Setenv("DRCON_TEST_AGENT_VAR", "agent")
	out := filepath.Join(t.TempDir(), "env")
	cfg := newConfig(t, "web", "x")
	cfg.Command = config.Command{Argv: []string{"/bin/sh", "-c", "env > " + out}}
	cfg.CommandEnv = config.CommandEnv{Pristine: true, Custom: []string{"RELOADED_BY=drcon", "PATH=/usr/bin:/bin"}}
	var l logs
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{Commands: startRunner(t, &l), Env: []string{"CONSUL_HTTP_ADDR=127.0.0.1:1"}})
	startJob(t, j)
	eventually(t, "the command", func() bool { return j.Status().Command != nil })
	got := content(out)
	for _, want := range []string{"RELOADED_BY=drcon\n", "CONSUL_HTTP_ADDR=127.0.0.1:1\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("the command's environment lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "DRCON_TEST_AGENT_VAR") {
		t.Errorf("a pristine environment has the agent's variables:\n%s", got)
	}
}
