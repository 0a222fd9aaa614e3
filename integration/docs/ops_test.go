package docs

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
)

// TestOperations holds the README's Operations section against a running
// agent: /healthz answers the fields it shows, every field of /v1/status
// and of POST /v1/reload's answers (200 and 422) is named where the README
// describes them, /metrics exports exactly the metrics of its table with
// the labels listed there, a signal the configuration gives no use is
// ignored, and SIGTERM stops drcon with exit 0, its pid file removed.
func TestOperations(t *testing.T) {
	_, text := readme(t)
	consul := testenv.StartConsul(t)
	consul.PutKV("app/config", "hello")
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	pidFile := filepath.Join(dir, "drcon.pid")
	conf := filepath.Join(dir, "drcon.hcl")
	good := fmt.Sprintf(`consul {
  address = %q
}
status {
  address = %q
}
pid_file = %q
template "app" {
  contents    = "{{ key \"app/config\" }}"
  destination = "out/app.conf"
  command     = ["true"]
}
`, consul.Addr, addr, pidFile)
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	cmd := exec.Command(testenv.Drcon(t), "-config", conf)
	cmd.Dir = dir
	p := testenv.Start(t, "drcon", cmd)

	base := "http://" + addr
	get := func(method, path string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	var health []byte
	testenv.WaitFor(t, 60*time.Second, "/healthz 200", func() bool {
		code, b := get("GET", "/healthz")
		health = b
		return code == http.StatusOK
	})
	var h map[string]any
	if err := json.Unmarshal(health, &h); err != nil {
		t.Fatal(err)
	}
	shown := regexp.MustCompile("`200 (\\{.*?\\})`").FindStringSubmatch(tableRow(t, text, "| `GET /healthz` |"))
	var want map[string]any
	if shown == nil || json.Unmarshal([]byte(shown[1]), &want) != nil {
		t.Fatalf("README.md's /healthz row shows no `200 {...}` answer")
	}
	if fmt.Sprint(h) != fmt.Sprint(want) {
		t.Errorf("/healthz answered %s; README.md shows %s", health, shown[1])
	}

	// Every field of /v1/status is named in the README's row for it.
	statusRow := tableRow(t, text, "| `GET /v1/status` |")
	_, b := get("GET", "/v1/status")
	var st any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("/v1/status: %v: %s", err, b)
	}
	for _, k := range jsonKeys(st) {
		if !strings.Contains(statusRow, "`"+k+"`") {
			t.Errorf("/v1/status has the field %q, which README.md's /v1/status row does not name", k)
		}
	}

	// POST /v1/reload: 200 unchanged, then 422 for a configuration that
	// does not parse, with the fields the README names.
	_, reloadText, _ := strings.Cut(text, "`POST /v1/reload` on the status address")
	reloadText, _, _ = strings.Cut(reloadText, "\n\n")
	checkReload := func(wantCode int, outcome string) {
		t.Helper()
		code, b := get("POST", "/v1/reload")
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("POST /v1/reload: %v: %s", err, b)
		}
		if code != wantCode || r["outcome"] != outcome {
			t.Errorf("POST /v1/reload: %d %s; want %d with outcome %q", code, b, wantCode, outcome)
		}
		for k := range r {
			if !strings.Contains(reloadText, "`"+k+"`") {
				t.Errorf("POST /v1/reload answered the field %q, which README.md does not name", k)
			}
		}
	}
	checkReload(http.StatusOK, "unchanged")
	write(good + "template \"broken\" {\n")
	checkReload(http.StatusUnprocessableEntity, "failed")
	write(good)

	// /metrics: the families exported are the table's, with its labels.
	table := section(t, text, "metrics")
	documented := map[string]string{} // metric -> its labels cell
	for _, row := range regexp.MustCompile(`(?m)^\| ([^|]*) \|([^|]*)\|`).FindAllStringSubmatch(table, -1) {
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(row[1], -1) {
			documented[m[1]] = row[2]
		}
	}
	_, scrape := get("GET", "/metrics")
	exported := map[string]bool{}
	sample := regexp.MustCompile(`^([a-z_]+?)(_bucket|_sum|_count)?(\{(.*)\})? `)
	label := regexp.MustCompile(`([a-z_]+)="`)
	for sc := bufio.NewScanner(strings.NewReader(string(scrape))); sc.Scan(); {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[1] == "TYPE" {
			exported[f[2]] = true
			if _, ok := documented[f[2]]; !ok {
				t.Errorf("/metrics exports %s, which is not in README.md's metrics table", f[2])
			}
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		name := m[1]
		if !exported[name] {
			name += m[2] // a _count or _sum that is a family's own name
		}
		for _, l := range label.FindAllStringSubmatch(m[4], -1) {
			if l[1] != "le" && !strings.Contains(documented[name], "`"+l[1]+"`") {
				t.Errorf("/metrics: %s has the label %s, which README.md's metrics table does not list", name, l[1])
			}
		}
	}
	// Families without series yet (the registrator's, here) are not
	// exported: those are checked against the registry instead.
	reg := metrics.NewRegistry()
	jobs.NewMetrics(reg)
	for name := range documented {
		if !exported[name] && !slices.Contains(reg.Names(), name) {
			t.Errorf("README.md's metrics table names %s, which /metrics does not export", name)
		}
	}

	// A signal the configuration gives no use is ignored; SIGTERM stops
	// drcon gracefully: exit 0, the pid file removed.
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, "the ignored SIGUSR1 logged", func() bool {
		return strings.Contains(p.Output(), "signal ignored")
	})
	if code, _ := get("GET", "/healthz"); code != http.StatusOK {
		t.Errorf("after SIGUSR1: /healthz %d", code)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err, ok := p.Wait(60 * time.Second)
	if !ok || err != nil {
		t.Errorf("after SIGTERM: exited %v (%v), want exit 0", ok, err)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file after a graceful stop: %v", err)
	}
}

// tableRow is the README line that starts with prefix.
func tableRow(t *testing.T, text, prefix string) string {
	t.Helper()
	for l := range strings.Lines(text) {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("README.md has no line starting with %q", prefix)
	return ""
}

// jsonKeys lists every object key in a decoded JSON document, sorted.
func jsonKeys(v any) []string {
	var keys []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				keys = append(keys, k)
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	slices.Sort(keys)
	return slices.Compact(keys)
}
