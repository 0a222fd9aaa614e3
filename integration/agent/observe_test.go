package agent

import (
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// TestHealthStatusMetrics: /healthz is 503 until every job has rendered or
// registered once; /v1/status shows each job's results and dependencies;
// every metric is recorded by the jobs and parses as Prometheus text.
func TestHealthStatusMetrics(t *testing.T) {
	c := testenv.StartConsul(t)
	ctr := newContainers(t)
	c.PutKV("app/mode", "good")
	c.PutKV("app/num", "1")
	d := newDrcon(t)
	d.write(fmt.Sprintf(`consul { address = %q }
template "gate" {
  contents    = "{{ key \"app/ready\" }}"
  destination = "$DIR/gate.out"
}
template "checked" {
  contents    = "{{ key \"app/mode\" }}"
  destination = "$DIR/checked.out"
  check       = "! grep -q bad \"$DRCON_CANDIDATE\""
  command     = "echo ran >> $DIR/commands"
}
template "parsed" {
  contents    = "{{ key \"app/num\" | parseInt }}"
  destination = "$DIR/parsed.out"
}
registrator "docker" {
  %s
}
`, c.Addr, ctr.filter()))
	d.start()

	if code := d.healthz(); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz before the gate has data: %d, want 503", code)
	}
	testenv.WaitFor(t, waitLimit, "the gate waiting for its key", func() bool {
		j := d.job("gate")
		return j.State == "missing" && slices.Equal(j.Missing, []string{"kv.block(app/ready)"})
	})
	if code := d.healthz(); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz while the gate waits: %d, want 503", code)
	}
	c.PutKV("app/ready", "yes")
	d.waitHealthy()

	ctr.start()
	testenv.WaitFor(t, waitLimit, "the container's service", func() bool { return len(services(t, c)) == 1 })
	c.PutKV("app/mode", "bad")
	testenv.WaitFor(t, waitLimit, "the check's refusal", func() bool {
		return d.metric("drcon_template_check_failures_total", "job", "checked") == 1
	})
	c.PutKV("app/num", "x")
	testenv.WaitFor(t, waitLimit, "the render error", func() bool {
		return d.metric("drcon_template_render_errors_total", "job", "parsed") >= 1
	})
	if code, st := d.postReload(); code != http.StatusOK || st.Outcome != "unchanged" {
		t.Fatalf("POST /v1/reload: %d %+v", code, st)
	}

	st := d.statusDoc()
	if st.LastReload == nil || st.LastReload.Outcome != "unchanged" {
		t.Fatalf("last reload: %+v", st.LastReload)
	}
	checked := d.job("checked")
	if checked.State != "refused" || checked.Check == nil || checked.Check.ExitCode != 1 ||
		checked.Command == nil || checked.Command.ExitCode != 0 || checked.LastWrite.IsZero() {
		t.Fatalf("checked: %+v", checked)
	}
	if len(checked.Dependencies) != 1 || !checked.Dependencies[0].HasData ||
		checked.Dependencies[0].Age == nil || *checked.Dependencies[0].Age <= 0 || *checked.Dependencies[0].Age > time.Hour {
		t.Fatalf("checked's dependencies: %+v", checked.Dependencies)
	}
	if parsed := d.job("parsed"); parsed.State != "error" || !strings.Contains(parsed.LastError, "parseInt") {
		t.Fatalf("parsed: %+v", parsed)
	}
	reg := d.job("docker")
	registered := services(t, c)
	if reg.Kind != "registrator" || !reg.Ready || reg.Containers < 1 || len(reg.Services) != 1 ||
		registered[reg.Services[0]] == nil {
		t.Fatalf("registrator: %+v; registered: %v", reg, registered)
	}

	// `drcon status` prints the table from the running agent.
	out, err := exec.Command(testenv.Drcon(t), "status", "-addr", d.status).CombinedOutput()
	if err != nil {
		t.Fatalf("drcon status: %v\n%s", err, out)
	}
	for _, want := range []string{"last reload", "unchanged", "JOB", "checked", "refused", "refused the candidate",
		"gate", "parsed", "docker", "registrator", "1 containers, 1 services"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("drcon status lacks %q:\n%s", want, out)
		}
	}

	// Consul away: the watchers' queries fail and are counted.
	c.Stop()
	testenv.WaitFor(t, waitLimit, "failed queries counted", func() bool {
		return d.metric("drcon_consul_query_errors_total") > 0
	})

	mf := d.metrics()
	for _, m := range []struct {
		name   string
		labels []string
	}{
		{"drcon_template_renders_total", []string{"job", "checked"}},
		{"drcon_template_render_errors_total", []string{"job", "parsed"}},
		{"drcon_template_writes_total", []string{"job", "gate"}},
		{"drcon_template_check_failures_total", []string{"job", "checked"}},
		{"drcon_template_commands_total", []string{"job", "checked", "outcome", "ok"}},
		{"drcon_template_command_duration_seconds", []string{"job", "checked"}},
		{"drcon_dependencies_watched", nil},
		{"drcon_consul_queries_total", nil},
		{"drcon_consul_query_errors_total", nil},
		{"drcon_dependency_changes_total", nil},
		{"drcon_registrator_registrations_total", []string{"job", "docker", "action", "register"}},
		{"drcon_registrator_reconcile_actions_total", []string{"job", "docker"}},
		{"drcon_registrator_docker_events_total", []string{"job", "docker"}},
		{"drcon_reloads_total", []string{"outcome", "unchanged"}},
		{"go_goroutines", nil},
		{"process_open_fds", nil},
	} {
		if v := value(mf, m.name, m.labels...); v <= 0 {
			t.Errorf("%s%v = %v, want > 0", m.name, m.labels, v)
		}
	}
	if v := value(mf, "drcon_reloads_total", "outcome", "failed"); v != 0 {
		t.Errorf("drcon_reloads_total{outcome=failed} = %v", v)
	}

	d.signal(syscall.SIGTERM)
	if code := d.exitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
