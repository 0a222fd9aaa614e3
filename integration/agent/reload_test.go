package agent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// threeJobs is a configuration of three template jobs on Consul at addr;
// each runs a command that appends its name to $DIR/commands. b's template
// text is bText. The blocking query wait is long so that no query ends on
// its own while the test counts them.
func threeJobs(addr, bText, extra string) string {
	job := func(name, text string) string {
		return fmt.Sprintf(`template %q {
  contents    = %q
  destination = "$DIR/%s.out"
  command     = "echo %s >> $DIR/commands"
}
`, name, text, name, name)
	}
	return fmt.Sprintf("consul { address = %q }\nblock_query_wait = \"5m\"\n%s\n", addr, extra) +
		job("a", `a {{ key "shared" }}`) +
		job("b", bText) +
		job("c", `c {{ key "shared" }} {{ key "c" }}`)
}

const bFirst = `b {{ key "shared" }} {{ key "b" }}`

// TestReload: an identical file reloads nothing; an edited job alone
// restarts and renders, on the data its predecessor had (no Consul query);
// a broken file changes nothing and is reported; a change of the consul
// block restarts every job that uses Consul; log format and level follow.
func TestReload(t *testing.T) {
	c := testenv.StartConsul(t)
	for _, k := range []string{"shared", "b", "c"} {
		c.PutKV(k, "v1")
	}
	proxy := testenv.StartProxy(t, c.Addr)
	d := newDrcon(t)
	d.write(threeJobs(proxy.Addr, bFirst, ""))
	d.start()
	d.waitHealthy()
	testenv.WaitFor(t, waitLimit, "three commands", func() bool { return len(d.lines("commands")) == 3 })
	renders := func() map[string]uint64 {
		out := map[string]uint64{}
		for _, j := range d.statusDoc().Jobs {
			out[j.Name] = j.Renders
		}
		return out
	}
	before := renders()
	// Every watcher holds its blocking query: whatever Consul request
	// happens from now on is one the test caused.
	steady := func() {
		testenv.WaitFor(t, waitLimit, "three blocking queries", func() bool {
			open, distinct := proxy.Blocking()
			return open == 3 && distinct == 3
		})
	}

	t.Run("same file", func(t *testing.T) {
		steady()
		proxy.Reset()
		st := d.reload()
		if st.Outcome != "unchanged" {
			t.Fatalf("reload of the same file: %+v", st)
		}
		if got := renders(); fmt.Sprint(got) != fmt.Sprint(before) {
			t.Fatalf("renders %v, before %v", got, before)
		}
		if got := d.lines("commands"); len(got) != 3 {
			t.Fatalf("commands ran: %v", got)
		}
		if n := proxy.Requests(); n != 0 {
			t.Fatalf("%d Consul requests", n)
		}
		if n := d.metric("drcon_reloads_total", "outcome", "unchanged"); n != 1 {
			t.Fatalf("drcon_reloads_total{outcome=unchanged} = %v", n)
		}
	})

	t.Run("one of three edited", func(t *testing.T) {
		steady()
		proxy.Reset()
		d.write(threeJobs(proxy.Addr, "edited "+bFirst, ""))
		st := d.reload()
		if st.Outcome != "ok" || !slices.Equal(st.Restarted, []string{"b"}) || !slices.Equal(st.Kept, []string{"a", "c"}) {
			t.Fatalf("reload: %+v", st)
		}
		testenv.WaitFor(t, waitLimit, "b's new render", func() bool { return d.read("b.out") == "edited b v1 v1" })
		testenv.WaitFor(t, waitLimit, "b's command", func() bool { return len(d.lines("commands")) == 4 })
		got := renders()
		if got["a"] != before["a"] || got["c"] != before["c"] {
			t.Fatalf("unchanged jobs rendered: %v, before %v", got, before)
		}
		if c := d.lines("commands"); c[3] != "b" {
			t.Fatalf("commands %v: want b's last", c)
		}
		// b's dependencies were kept for it by its predecessor's watchers.
		if n := proxy.Requests(); n != 0 {
			t.Fatalf("%d Consul requests for dependencies that stayed watched", n)
		}
	})

	t.Run("broken file", func(t *testing.T) {
		d.write(threeJobs(proxy.Addr, "{{ key }", "bogus = 1\nlog_level = \"loud\"\n"))
		logged := d.countLog("reload: invalid configuration")
		code, st := d.postReload()
		if code != http.StatusUnprocessableEntity || st.Outcome != "failed" {
			t.Fatalf("POST /v1/reload: %d %+v", code, st)
		}
		// Load reports every configuration mistake at once; the templates
		// are built only from a configuration that loads.
		if len(st.Diagnostics) != 2 {
			t.Fatalf("diagnostics %q, want 2", st.Diagnostics)
		}
		for _, diag := range st.Diagnostics {
			if !strings.HasPrefix(diag, d.config+":") {
				t.Errorf("diagnostic %q does not start with file:line:col", diag)
			}
		}
		last := d.statusDoc().LastReload
		if last == nil || last.Outcome != "failed" || !strings.Contains(last.Error, "Unsupported argument") {
			t.Fatalf("status after the failed reload: %+v", last)
		}
		// The log reaches us through a pipe, maybe after the reply.
		testenv.WaitFor(t, waitLimit, "the diagnostics logged", func() bool {
			return d.countLog("reload: invalid configuration")-logged >= 2
		})
		if n := d.countLog("reload: invalid configuration") - logged; n != 2 {
			t.Fatalf("%d log lines for 2 diagnostics", n)
		}
		// The old configuration keeps serving.
		c.PutKV("shared", "v2")
		testenv.WaitFor(t, waitLimit, "the old jobs render a change", func() bool {
			return d.read("a.out") == "a v2" && d.read("b.out") == "edited b v2 v1"
		})
		if n := d.metric("drcon_reloads_total", "outcome", "failed"); n != 1 {
			t.Fatalf("drcon_reloads_total{outcome=failed} = %v", n)
		}

		d.write(threeJobs(proxy.Addr, "{{ key }", ""))
		_, st = d.postReload()
		if st.Outcome != "failed" || len(st.Diagnostics) != 1 || !strings.Contains(st.Diagnostics[0], `template "b"`) {
			t.Fatalf("a template that does not parse: %+v", st)
		}
	})

	t.Run("consul block and logs", func(t *testing.T) {
		d.write(threeJobs(c.Addr, "edited "+bFirst, "log_format = \"json\"\nlog_level = \"debug\"\n"))
		mark := len(d.logLines())
		code, st := d.postReload()
		if code != http.StatusOK || !slices.Equal(st.Restarted, []string{"a", "b", "c"}) {
			t.Fatalf("consul block changed: %d %+v", code, st)
		}
		d.waitHealthy()
		c.PutKV("c", "v3")
		// The job logs its write just after the rename: wait for both.
		jobLines := 0
		testenv.WaitFor(t, waitLimit, "c renders through the new address, and logs it", func() bool {
			jobLines = countJSONWrites(t, d.logLines()[mark:])
			return d.read("c.out") == "c v2 v3" && jobLines > 0
		})
		if jobLines != 1 {
			t.Fatalf("%d 'wrote destination' lines after the change of c, want 1", jobLines)
		}
	})
}

// countJSONWrites checks the log lines written after the switch to json
// (the lines before the new configuration took effect are text): each is
// JSON, names its job at most once, and a write names job c. It returns
// the number of writes.
func countJSONWrites(t *testing.T, lines []string) int {
	t.Helper()
	writes, switched := 0, false
	for _, line := range lines {
		if switched = switched || strings.HasPrefix(line, "{"); !switched {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line after the switch to json: %q", line)
		}
		if n := strings.Count(line, `"job":`); n > 1 {
			t.Fatalf("job given %d times: %q", n, line)
		}
		if rec["msg"] == "wrote destination" {
			writes++
			if rec["job"] != "c" {
				t.Fatalf("a job line without its job: %q", line)
			}
		}
	}
	return writes
}
