package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/child"
	"github.com/drcon/drcon/template/dedup"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestPrintStatus: the table `drcon status` prints, against a golden file.
func TestPrintStatus(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	dep := func(name string, age time.Duration) agent.DependencyState {
		return agent.DependencyState{Name: name, HasData: true, Age: &age}
	}
	st := agent.Status{
		Version: "v1.0.0", Started: ago(3 * time.Hour), Healthy: false,
		LastReload: &agent.ReloadStatus{At: ago(90 * time.Second), Outcome: "failed",
			Error: "drcon.hcl:3:9: Unclosed configuration block: There is no closing brace.\ndrcon.hcl:9:1: other"},
		Dedup: &dedup.Status{Role: dedup.RoleFollower, Group: "drcon/dedup/5f0c2a", Leader: "web-1",
			Dependencies: 30, Shared: 30},
		Exec: &child.Status{Command: `nginx -g "daemon off;"`, PID: 4242, Started: ago(3 * time.Hour), Reloads: 12},
		Jobs: []agent.JobStatus{
			{Status: jobs.Status{Name: "nginx", Kind: "template", State: "idle", Ready: true,
				Destination: "/etc/nginx/conf.d/upstreams.conf", LastRender: ago(2 * time.Second),
				LastWrite: ago(5 * time.Minute), Check: &jobs.CommandResult{ExitCode: 0},
				Command: &jobs.CommandResult{ExitCode: 0}},
				Dependencies: []agent.DependencyState{dep("health.service(web|passing)", 1500*time.Millisecond),
					dep("catalog.services", 40*time.Second)}},
			{Status: jobs.Status{Name: "app", Kind: "template", State: "missing", Destination: "/etc/app.conf",
				Missing: []string{"kv.block(app/config)"}},
				Dependencies: []agent.DependencyState{{Name: "kv.block(app/config)"}}},
			{Status: jobs.Status{Name: "haproxy", Kind: "template", State: "error", Ready: true,
				LastError: "render job \"haproxy\": command failed\nsecond line", LastRender: ago(time.Hour),
				LastWrite: ago(time.Hour)}},
			{Status: jobs.Status{Name: "docker", Kind: "registrator", State: "running", Ready: true,
				LastSync: ago(250 * time.Millisecond), Containers: 7, Services: []string{"a", "b", "c"}}},
		},
	}
	var got bytes.Buffer
	printStatus(&got, st, now)
	golden := filepath.Join("testdata", "status.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("status table:\n%s\nwant (%s):\n%s", got.Bytes(), golden, want)
	}
}

// TestPrintStatusFailingDependency: a job whose dependency Consul does not
// answer says so and why, whether it waits for its first data or renders
// from the data it kept; a dependency that answers again is not blamed for
// the error it had before.
func TestPrintStatusFailingDependency(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	refused := "fetch kv.block(app/a): Get \"http://127.0.0.1:1/v1/kv/app/a\": dial tcp 127.0.0.1:1: connect: connection refused"
	failing := agent.DependencyState{Name: "kv.block(app/a)", Failures: 3, LastError: refused}
	kept := failing
	minute := time.Minute
	kept.HasData, kept.Age = true, &minute
	recovered := agent.DependencyState{Name: "catalog.services", HasData: true, LastError: "fetch catalog.services: old"}
	st := agent.Status{Version: "v1.0.0", Started: now.Add(-time.Hour), Jobs: []agent.JobStatus{
		{Status: jobs.Status{Name: "new", Kind: "template", State: "missing", Missing: []string{"kv.block(app/a)"}},
			Dependencies: []agent.DependencyState{failing}},
		{Status: jobs.Status{Name: "old", Kind: "template", State: "idle", Ready: true, Destination: "/etc/old.conf"},
			Dependencies: []agent.DependencyState{kept, recovered}},
	}}
	var b bytes.Buffer
	printStatus(&b, st, now)
	want := `kv.block(app/a): 3 queries failed in a row, the last: Get "http://127.0.0.1:1/v1/kv/app/a": dial tcp 127.0.0.1:1: connect: connection refused`
	for _, line := range []string{"waiting for kv.block(app/a); " + want, "/etc/old.conf; " + want} {
		if !bytes.Contains(b.Bytes(), []byte(line)) {
			t.Errorf("the table lacks %q:\n%s", line, b.Bytes())
		}
	}
	if bytes.Contains(b.Bytes(), []byte("catalog.services:")) {
		t.Errorf("a dependency that answers again is shown failing:\n%s", b.Bytes())
	}
}
