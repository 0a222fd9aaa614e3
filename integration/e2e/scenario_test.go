package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs"
)

// TestDRCoNScenario is `make demo` with its promises asserted, on the
// stack of examples/drcon.hcl and examples/nginx.conf: requests flow
// through nginx while the service scales 2 -> 5 -> 3 -> 1 -> 3.
//   - docker run: no request fails; every new container serves.
//   - docker stop: no request fails; drcon puts the service in maintenance
//     on the stop event, nginx drops it, and the container serves what it
//     still gets while it drains.
//   - docker kill: the container is gone before anyone knows; nginx
//     (proxy_next_upstream error timeout) retries the requests it loses on
//     the instance that is left, so none fails either.
func TestDRCoNScenario(t *testing.T) {
	st := startStack(t, ".", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := st.WaitProxy(ctx); err != nil {
		t.Fatal(err)
	}
	var live strings.Builder
	report, err := demo.Scenario{Image: testenv.BuildWhoami(t), Service: "whoami", Drain: 3 * time.Second,
		Settle: time.Second, Out: &live}.Run(ctx, st)
	t.Logf("live log:\n%s", live.String())
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	if err := report.Print(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", table.String())

	for _, p := range report.Phases {
		if p.Requests == 0 {
			t.Errorf("%s: no request was sent", p.Name)
		}
		if p.Failures != 0 {
			t.Errorf("%s: %d of %d requests failed, e.g. %v", p.Name, p.Failures, p.Requests, p.Failed)
		}
	}
	if len(report.Phases) != 5 {
		t.Errorf("%d phases, want 5", len(report.Phases))
	}
	if report.Backends != 7 {
		t.Errorf("%d distinct backends served, want 7 (2 + 3 + 2 started)", report.Backends)
	}
	if len(report.Started) != 5 {
		t.Errorf("%d containers started under load, want 5", len(report.Started))
	}

	t.Run("fallback when no instance passes", func(t *testing.T) {
		// A service whose only instance fails its check: the upstream
		// gets the closed port, nginx -t accepts it, and nginx answers 502
		// at once, while the other service keeps serving.
		consul := consulClient(t, st)
		if err := consul.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "empty-1", Name: "empty",
			Tags: []string{"http"}, Address: "127.0.0.1", Port: 9,
			Check: &api.AgentServiceCheck{TTL: "1h", Status: api.HealthCritical}}); err != nil {
			t.Fatal(err)
		}
		testenv.WaitFor(t, 30*time.Second, "nginx to answer 502 for the service without instances", func() bool {
			code, _ := get(st.Paths.ProxyAddr, "empty", "/")
			return code == http.StatusBadGateway
		})
		if code, body := get(st.Paths.ProxyAddr, "whoami", "/"); code != http.StatusOK {
			t.Errorf("whoami: %d %s", code, body)
		}
		if code, _ := get(st.Paths.ProxyAddr, "nosuchservice", "/"); code != http.StatusNotFound {
			t.Errorf("an unknown host: %d, want 404 from the default server", code)
		}
		if s := jobStatus(t, st, "nginx"); s.LastError != "" || s.Check == nil || s.Check.ExitCode != 0 {
			t.Errorf("job nginx: last error %q, check %+v", s.LastError, s.Check)
		}
	})
}

func consulClient(t *testing.T, st *demo.Stack) *api.Client {
	t.Helper()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = st.Paths.ConsulAddr
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jobStatus is a job's status as drcon's /v1/status shows it.
func jobStatus(t *testing.T, st *demo.Stack, name string) jobs.Status {
	t.Helper()
	resp, err := http.Get("http://" + st.Paths.StatusAddr + "/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s agent.Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	for _, j := range s.Jobs {
		if j.Name == name {
			return j.Status
		}
	}
	t.Fatalf("drcon has no job %q", name)
	return jobs.Status{}
}
