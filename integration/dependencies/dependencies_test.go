// Package dependencies checks, through the drcon binary against a real
// Consul, the promise of drcon's watcher pool: however many template jobs use
// a dependency, the process keeps one blocking query for it; a change
// re-renders only the jobs that use it; a Consul outage keeps every file as
// it was and shows in /v1/status; and drcon heals by itself when Consul
// returns.
package dependencies

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// The four dependencies the jobs share, as the counting proxy keys their
// blocking queries, sorted.
var sharedQueries = []string{
	"/v1/health/service/web?passing=1",
	"/v1/kv/deps/a?",
	"/v1/kv/deps/b?",
	"/v1/kv/deps/list?recurse=",
}

// Each group of jobs uses some of the shared dependencies.
var groups = []struct {
	name string
	body string
}{
	{"a", `a={{ key "deps/a" }}
web={{ range service "web" }}{{ .Port }} {{ end }}
`},
	{"b", `b={{ key "deps/b" }}
list={{ range ls "deps/list" }}{{ .Key }}={{ .Value }} {{ end }}
`},
	{"c", `a={{ key "deps/a" }}
b={{ key "deps/b" }}
list={{ range ls "deps/list" }}{{ .Key }}={{ .Value }} {{ end }}
web={{ range service "web" }}{{ .Port }} {{ end }}
`},
}

const perGroup = 4 // 12 jobs, 32 uses of 4 dependencies

func TestSharedDependenciesAndOutage(t *testing.T) {
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	seed(t, c, "1", 8001)
	proxy := testenv.StartProxy(t, c.Addr)
	d := startDrcon(t, bin, proxy.Addr)

	// Every job rendered once, and ran its command once.
	d.waitFiles(t, func(job, group, text string) bool { return strings.Contains(text, "=1\n") })
	d.waitCommands(t, map[string]int{"a": 1, "b": 1, "c": 1})

	// 32 uses of 4 dependencies: 4 blocking queries, one each.
	waitBlocking(t, proxy, "one blocking query per dependency after the first renders")
	st := d.status(t)
	for _, dep := range st.Dependencies {
		t.Logf("dependency %s: %d subscribers", dep.Name, dep.Subscribers)
	}
	if len(st.Dependencies) != len(sharedQueries) {
		t.Fatalf("status shows %d dependencies, want %d: %+v", len(st.Dependencies), len(sharedQueries), st.Dependencies)
	}
	t.Logf("requests to Consul after the first renders: %d", proxy.Requests())

	// A change of deps/a re-renders the jobs that use it (a, c) and no other;
	// the change of deps/b that follows is the barrier after which a render
	// of a b job caused by deps/a would show. It waits for the commands of
	// the first change: a c job that renders again while its command is
	// still to start runs it once for both renders.
	before := st.renders()
	c.PutKV("deps/a", "2")
	d.waitFiles(t, func(job, group, text string) bool {
		return group == "b" || strings.Contains(text, "a=2\n")
	})
	d.waitCommands(t, map[string]int{"a": 2, "b": 1, "c": 2})
	c.PutKV("deps/b", "2")
	d.waitFiles(t, func(job, group, text string) bool {
		return group == "a" || strings.Contains(text, "b=2\n")
	})
	d.waitCommands(t, map[string]int{"a": 2, "b": 2, "c": 3})
	after := d.status(t).renders()
	for job, n := range after {
		want := map[string]uint64{"a": 1, "b": 1, "c": 2}[group(job)]
		if n-before[job] != want {
			t.Errorf("job %s rendered %d times for the changes of deps/a and deps/b, want %d", job, n-before[job], want)
		}
	}
	waitBlocking(t, proxy, "one blocking query per dependency after the changes")

	// Consul goes away: status says so, every file stays as it was.
	kept := d.files(t)
	c.Stop()
	testenv.WaitFor(t, 60*time.Second, "/v1/status to report every dependency failing", func() bool {
		st := d.status(t)
		failing := 0
		for _, dep := range st.Dependencies {
			if dep.Failing && dep.LastError != "" {
				failing++
			}
		}
		return failing == len(sharedQueries)
	})
	for _, dep := range d.status(t).Dependencies {
		t.Logf("while Consul is down: %s failing: %s", dep.Name, dep.LastError)
	}
	if got := d.files(t); !maps.Equal(got, kept) {
		t.Fatalf("files changed while Consul was down:\nbefore %q\nafter  %q", kept, got)
	}
	d.waitCommands(t, map[string]int{"a": 2, "b": 2, "c": 3})

	// A fresh, empty Consul on the same address: drcon heals by itself and
	// renders its data. (How many renders that takes is not fixed: the web
	// query may see the empty agent before web is registered.)
	c.Start()
	seed(t, c, "3", 8003)
	d.waitFiles(t, func(job, group, text string) bool {
		return strings.Contains(text, "=3\n") && strings.Contains(text, "=3 ") == (group != "a") &&
			(group == "b" || strings.Contains(text, "web=8003 \n"))
	})
	testenv.WaitFor(t, 60*time.Second, "/v1/status to report every dependency healthy", func() bool {
		for _, dep := range d.status(t).Dependencies {
			if dep.Failing {
				return false
			}
		}
		return true
	})
	waitBlocking(t, proxy, "one blocking query per dependency after Consul came back")
}

// seed writes the shared data with value v in one transaction, after the
// web service (on port) is in the catalog, so that each job's next render
// sees all of it.
func seed(t *testing.T, c *testenv.Consul, v string, port int) {
	t.Helper()
	cl := c.Client()
	c.Register(&api.AgentServiceRegistration{ID: "web-" + v, Name: "web", Port: port, Address: "127.0.0.1"})
	testenv.WaitFor(t, 30*time.Second, "web in the catalog", func() bool {
		es, _, err := cl.Health().Service("web", "", true, nil)
		return err == nil && len(es) == 1 && es[0].Service.Port == port
	})
	ops := api.TxnOps{}
	for _, k := range []string{"deps/a", "deps/b", "deps/list/x", "deps/list/y"} {
		ops = append(ops, &api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVSet, Key: k, Value: []byte(v)}})
	}
	if ok, resp, _, err := cl.Txn().Txn(ops, nil); err != nil || !ok {
		t.Fatalf("seed kv: %v %+v", err, resp)
	}
}

// drcon is a drcon daemon running the 12 jobs, with its status listener.
type drcon struct {
	dir        string
	statusAddr string
}

func startDrcon(t *testing.T, bin, consulAddr string) *drcon {
	t.Helper()
	d := &drcon{dir: t.TempDir(), statusAddr: "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))}
	var hcl strings.Builder
	fmt.Fprintf(&hcl, `consul {
  address = %q
  retry {
    attempts    = 2
    backoff     = "50ms"
    max_backoff = "500ms"
  }
}
status { address = %q }
`, consulAddr, d.statusAddr)
	for _, g := range groups {
		for i := range perGroup {
			job := g.name + strconv.Itoa(i)
			src := filepath.Join(d.dir, job+".ctmpl")
			if err := os.WriteFile(src, []byte("job="+job+"\n"+g.body), 0o644); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&hcl, `template %q {
  source      = %q
  destination = %q
  command     = "echo %s >> %s"
}
`, job, src, d.dest(job), job, d.log())
		}
	}
	cfg := filepath.Join(d.dir, "drcon.hcl")
	if err := os.WriteFile(cfg, []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testenv.Start(t, "drcon", exec.Command(bin, "-config", cfg))
	t.Cleanup(p.Stop)
	return d
}

func (d *drcon) dest(job string) string { return filepath.Join(d.dir, "out", job) }
func (d *drcon) log() string            { return filepath.Join(d.dir, "commands.log") }

func jobNames() []string {
	var out []string
	for _, g := range groups {
		for i := range perGroup {
			out = append(out, g.name+strconv.Itoa(i))
		}
	}
	return out
}

func group(job string) string { return job[:1] }

// files reads every destination; a missing one reads as "".
func (d *drcon) files(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, job := range jobNames() {
		b, _ := os.ReadFile(d.dest(job))
		out[job] = string(b)
	}
	return out
}

// waitFiles waits until every job's destination satisfies ok.
func (d *drcon) waitFiles(t *testing.T, ok func(job, group, text string) bool) {
	t.Helper()
	var last map[string]string
	testenv.WaitFor(t, 60*time.Second, "the destination files", func() bool {
		last = d.files(t)
		for job, text := range last {
			if text == "" || !ok(job, group(job), text) {
				return false
			}
		}
		return true
	})
}

// waitCommands waits until each job's command ran the given number of times
// per group, and fails if one ran more often.
func (d *drcon) waitCommands(t *testing.T, want map[string]int) {
	t.Helper()
	var got map[string]int
	testenv.WaitFor(t, 60*time.Second, "the commands", func() bool {
		got = d.commands()
		for _, job := range jobNames() {
			if got[job] > want[group(job)] {
				t.Fatalf("job %s ran its command %d times, want %d", job, got[job], want[group(job)])
			}
			if got[job] < want[group(job)] {
				return false
			}
		}
		return true
	})
}

func (d *drcon) commands() map[string]int {
	b, _ := os.ReadFile(d.log())
	out := map[string]int{}
	for _, l := range strings.Fields(string(b)) {
		out[l]++
	}
	return out
}

// statusDoc is the part of GET /v1/status this test reads.
type statusDoc struct {
	Jobs []struct {
		Name    string `json:"name"`
		Renders uint64 `json:"renders"`
	} `json:"jobs"`
	Dependencies []struct {
		Name        string `json:"name"`
		Subscribers int    `json:"subscribers"`
		Failing     bool   `json:"failing"`
		LastError   string `json:"last_error"`
	} `json:"dependencies"`
}

func (s statusDoc) renders() map[string]uint64 {
	out := map[string]uint64{}
	for _, j := range s.Jobs {
		out[j.Name] = j.Renders
	}
	return out
}

// status reads /v1/status, waiting for the listener at first.
func (d *drcon) status(t *testing.T) statusDoc {
	t.Helper()
	var st statusDoc
	testenv.WaitFor(t, 30*time.Second, "GET /v1/status", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+d.statusAddr+"/v1/status", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		st = statusDoc{}
		return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil
	})
	return st
}

// waitBlocking waits until exactly the shared dependencies have a blocking
// query open, one each.
func waitBlocking(t *testing.T, p *testenv.Proxy, what string) {
	t.Helper()
	var open, distinct int
	var paths []string
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		open, distinct = p.Blocking()
		paths = p.BlockingPaths()
		slices.Sort(paths)
		if open == len(sharedQueries) && slices.Equal(paths, sharedQueries) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %d blocking queries open, %d distinct: %q; want one each of %q", what, open, distinct, paths, sharedQueries)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Logf("%s: %d blocking queries open, %d distinct: %s", what, open, distinct, strings.Join(paths, " "))
}
