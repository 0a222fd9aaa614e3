// Package dedup tests dedup across agents: several drcon processes sharing
// one Consul dev agent, as separate hosts would share a cluster.
package dedup

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dedup"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// waitLimit bounds every wait that does not depend on the session TTL.
const waitLimit = 30 * time.Second

// ttl is the session TTL of the tests, Consul's smallest.
const ttl = 10 * time.Second

var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// member is one drcon process.
type member struct {
	t      *testing.T
	name   string
	dir    string
	status string
	env    []string
	proc   *testenv.Process
	// stopped is set by the test when it stops or kills the process.
	stopped bool
}

// config is the members' configuration; %[1]s is Consul's address, %[2]s
// the status address, %[3]s the member's directory.
const config = `
log_level = "debug"
consul { address = "%[1]s" }
status { address = "%[2]s" }
dedup {
  ttl = "10s"
}
template "web" {
  contents = <<-EOT
  {{- range services }}{{ if ne .Name "consul" }}{{ .Name }}:{{ range service .Name }} {{ .ID }}@{{ .Address }}:{{ .Port }}{{ end }}
  {{ end }}{{ end }}config={{ key "app/config" }}
  host={{ key (printf "hosts/%%s" (env "HOSTTAG")) }}
  EOT
  destination = "%[3]s/web.out"
}
template "local" {
  contents    = "tag={{ env \"HOSTTAG\" }} node={{ with node }}{{ with .Node }}{{ .Node }}{{ end }}{{ end }}\n"
  destination = "%[3]s/local.out"
}
`

// newMember prepares a process that talks to Consul at addr; env is added
// to its environment.
func newMember(t *testing.T, name, addr string, env ...string) *member {
	t.Helper()
	m := &member{t: t, name: name, dir: t.TempDir(), status: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), env: env}
	cfg := fmt.Sprintf(config, addr, m.status, m.dir)
	if err := os.WriteFile(filepath.Join(m.dir, "drcon.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Runs after the process is stopped (cleanups run last first): a race
	// the detector found or a panic fails the test even if it recovered.
	t.Cleanup(func() {
		if m.proc == nil {
			return
		}
		if out := m.proc.Output(); strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic:") {
			t.Errorf("%s:\n%s", m.name, out)
		}
	})
	return m
}

func (m *member) start() {
	m.t.Helper()
	m.stopped = false
	cmd := exec.Command(testenv.Drcon(m.t), "-config", filepath.Join(m.dir, "drcon.hcl"))
	cmd.Dir = m.dir
	cmd.Env = append(os.Environ(), m.env...)
	m.proc = testenv.Start(m.t, m.name, cmd)
	testenv.WaitFor(m.t, waitLimit, m.name+"'s status endpoint", func() bool {
		_, ok := m.tryStatus()
		return ok
	})
}

// kill stops the process with SIGKILL.
func (m *member) kill() {
	m.stopped = true
	m.proc.Kill()
}

// stop stops the process with SIGTERM.
func (m *member) stop() {
	m.stopped = true
	m.proc.Stop()
}

func (m *member) alive() bool {
	select {
	case <-m.proc.Done():
		return false
	default:
		return true
	}
}

func (m *member) tryStatus() (agent.Status, bool) {
	var st agent.Status
	resp, err := client.Get("http://" + m.status + "/v1/status")
	if err != nil {
		return st, false
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st) == nil
}

// dedup is the member's dedup status; the zero Status when unreachable.
func (m *member) dedup() dedup.Status {
	st, ok := m.tryStatus()
	if !ok || st.Dedup == nil {
		return dedup.Status{}
	}
	return *st.Dedup
}

// read returns a rendered file, "" when absent.
func (m *member) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(m.dir, name))
	return string(b)
}

// fleet is the members of one test.
type fleet struct {
	t       *testing.T
	consul  *testenv.Consul
	members []*member
}

// live lists the members the test did not stop; one that exited by
// itself fails the test.
func (f *fleet) live() []*member {
	f.t.Helper()
	var out []*member
	for _, m := range f.members {
		switch {
		case m.stopped:
		case !m.alive():
			f.t.Fatalf("%s exited:\n%s", m.name, m.proc.Output())
		default:
			out = append(out, m)
		}
	}
	return out
}

// settled waits until the live members form groups groups, each with
// one leader and followers that answer everything shareable from the
// leader's data. It returns the leaders.
func (f *fleet) settled(groups int, limit time.Duration) []*member {
	f.t.Helper()
	var leaders []*member
	testenv.WaitFor(f.t, limit, fmt.Sprintf("%d groups, each with one leader and its followers on shared data", groups), func() bool {
		leaders = nil
		members := map[string]int{}
		for _, m := range f.live() {
			s := m.dedup()
			switch {
			case s.Role == dedup.RoleLeader:
				leaders = append(leaders, m)
			case s.Role != dedup.RoleFollower || s.Fallback != "" || s.Shared != s.Dependencies || s.Shared == 0:
				return false
			}
			members[s.Group]++
		}
		return len(leaders) == groups && len(members) == groups
	})
	return leaders
}

// same waits until every live member's file name reads the same and
// contains want, and returns it.
func (f *fleet) same(name, want string, limit time.Duration) string {
	f.t.Helper()
	return f.converge(name, func(s string) bool { return strings.Contains(s, want) }, limit)
}

// converge waits until every live member's file name reads the same and
// ok accepts it, and returns it.
func (f *fleet) converge(name string, ok func(string) bool, limit time.Duration) string {
	f.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		live := f.live()
		got := live[0].read(name)
		same := true
		for _, m := range live {
			same = same && m.read(name) == got
		}
		if same && ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, m := range live {
				fmt.Fprintf(&b, "%s:\n%s\n", m.name, m.read(name))
			}
			f.t.Fatalf("after %s, %s differs or is not what the test waits for:\n%s", limit, name, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// register registers an instance of service on Consul's node.
func (f *fleet) register(service, id string, port int) {
	f.t.Helper()
	f.consul.Register(&api.AgentServiceRegistration{ID: id, Name: service, Address: "127.0.0.1", Port: port})
}

func (f *fleet) deregister(id string) {
	f.t.Helper()
	if err := f.consul.Client().Agent().ServiceDeregister(id); err != nil {
		f.t.Fatalf("deregister %s: %v", id, err)
	}
}

// rewrite replaces old with new in a file.
func rewrite(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gauge is the value of an unlabelled gauge on the member's /metrics.
func (m *member) gauge(name string) float64 {
	m.t.Helper()
	resp, err := client.Get("http://" + m.status + "/metrics")
	if err != nil {
		m.t.Fatalf("%s: GET /metrics: %v", m.name, err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		m.t.Fatalf("%s: parse /metrics: %v", m.name, err)
	}
	f := mf[name]
	if f == nil || len(f.GetMetric()) != 1 {
		m.t.Fatalf("%s: /metrics has no single series %s", m.name, name)
	}
	return f.GetMetric()[0].GetGauge().GetValue()
}
