// Package agent tests the drcon binary as a process: signals, reload by
// diff, graceful and forced stops, status, health and metrics, against a
// real Consul agent, Docker engine and the commands jobs run.
package agent

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/integration/testenv"
)

// waitLimit bounds every wait for the agent to do something.
const waitLimit = 30 * time.Second

// client talks to the status endpoint without keeping connections, so that
// counting the agent's goroutines and descriptors is not disturbed by it.
var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// drcon is one drcon process of a test, with its configuration file and
// status address.
type drcon struct {
	t      *testing.T
	dir    string
	config string
	status string
	proc   *testenv.Process
}

// newDrcon prepares a directory and a status address; write the
// configuration with d.write, then d.start.
func newDrcon(t *testing.T) *drcon {
	t.Helper()
	dir := t.TempDir()
	return &drcon{t: t, dir: dir, config: filepath.Join(dir, "drcon.hcl"),
		status: fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}
}

// write writes the configuration: $DIR is the test's directory, $STATUS
// the status address. A status block is added unless it has one.
func (d *drcon) write(hcl string) {
	d.t.Helper()
	hcl = strings.NewReplacer("$DIR", d.dir, "$STATUS", d.status).Replace(hcl)
	if !strings.Contains(hcl, "status {") {
		hcl = fmt.Sprintf("status { address = %q }\n", d.status) + hcl
	}
	if err := os.WriteFile(d.config, []byte(hcl), 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// path is a file in the test's directory.
func (d *drcon) path(name string) string { return filepath.Join(d.dir, name) }

// start runs drcon on the configuration and waits for its status endpoint.
func (d *drcon) start(args ...string) {
	d.t.Helper()
	cmd := exec.Command(testenv.Drcon(d.t), append([]string{"-config", d.config}, args...)...)
	cmd.Dir = d.dir
	d.proc = testenv.Start(d.t, "drcon", cmd)
	testenv.WaitFor(d.t, waitLimit, "the status endpoint", func() bool {
		resp, err := client.Get("http://" + d.status + "/v1/status")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}

func (d *drcon) pid() int { return d.proc.Cmd.Process.Pid }

func (d *drcon) signal(sig syscall.Signal) {
	d.t.Helper()
	if err := d.proc.Signal(sig); err != nil {
		d.t.Fatalf("signal %s: %v", sig, err)
	}
}

// exitCode waits for the process to exit and returns its exit code.
func (d *drcon) exitCode() int {
	d.t.Helper()
	err, ok := d.proc.Wait(waitLimit)
	if !ok {
		d.t.Fatalf("drcon did not exit")
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	d.t.Fatalf("wait: %v", err)
	return -1
}

func (d *drcon) getJSON(path string, v any) int {
	d.t.Helper()
	resp, err := client.Get("http://" + d.status + path)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		d.t.Fatalf("GET %s: decode: %v", path, err)
	}
	return resp.StatusCode
}

func (d *drcon) statusDoc() agent.Status {
	d.t.Helper()
	var st agent.Status
	if code := d.getJSON("/v1/status", &st); code != http.StatusOK {
		d.t.Fatalf("GET /v1/status: %d", code)
	}
	return st
}

func (d *drcon) job(name string) agent.JobStatus {
	d.t.Helper()
	for _, j := range d.statusDoc().Jobs {
		if j.Name == name {
			return j
		}
	}
	d.t.Fatalf("no job %q in status", name)
	return agent.JobStatus{}
}

func (d *drcon) healthz() int {
	d.t.Helper()
	var body map[string]any
	return d.getJSON("/healthz", &body)
}

func (d *drcon) waitHealthy() {
	d.t.Helper()
	testenv.WaitFor(d.t, waitLimit, "GET /healthz 200", func() bool { return d.healthz() == http.StatusOK })
}

// metrics scrapes /metrics and parses it as Prometheus does.
func (d *drcon) metrics() map[string]*dto.MetricFamily {
	d.t.Helper()
	resp, err := client.Get("http://" + d.status + "/metrics")
	if err != nil {
		d.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		d.t.Fatalf("parse /metrics: %v", err)
	}
	return mf
}

// metric sums the series of name whose labels include labels (a
// histogram counts its observations).
func (d *drcon) metric(name string, labels ...string) float64 {
	d.t.Helper()
	return value(d.metrics(), name, labels...)
}

func value(mf map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := mf[name]
	if f == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// reloadBySignal sends the reload signal and returns the reload's outcome
// once status shows it.
func (d *drcon) reloadBySignal(sig syscall.Signal) agent.ReloadStatus {
	d.t.Helper()
	var before time.Time
	if last := d.statusDoc().LastReload; last != nil {
		before = last.At
	}
	d.signal(sig)
	var got agent.ReloadStatus
	testenv.WaitFor(d.t, waitLimit, "the reload in status", func() bool {
		last := d.statusDoc().LastReload
		if last == nil || !last.At.After(before) {
			return false
		}
		got = *last
		return true
	})
	return got
}

func (d *drcon) reload() agent.ReloadStatus {
	d.t.Helper()
	return d.reloadBySignal(syscall.SIGHUP)
}

// postReload asks for a reload over HTTP.
func (d *drcon) postReload() (int, agent.ReloadStatus) {
	d.t.Helper()
	resp, err := client.Post("http://"+d.status+"/v1/reload", "", nil)
	if err != nil {
		d.t.Fatalf("POST /v1/reload: %v", err)
	}
	defer resp.Body.Close()
	var st agent.ReloadStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		d.t.Fatalf("POST /v1/reload: decode: %v", err)
	}
	return resp.StatusCode, st
}

// fds counts the process's open file descriptors.
func (d *drcon) fds() int {
	d.t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.pid()))
	if err != nil {
		d.t.Fatalf("read fds: %v", err)
	}
	return len(entries)
}

// read returns a file of the test's directory, "" if it does not exist.
func (d *drcon) read(name string) string {
	d.t.Helper()
	b, err := os.ReadFile(d.path(name))
	if err != nil && !os.IsNotExist(err) {
		d.t.Fatal(err)
	}
	return string(b)
}

// lines returns the lines of a file of the test's directory.
func (d *drcon) lines(name string) []string {
	return strings.Fields(d.read(name))
}

// logLines is the agent's log so far, one entry per line.
func (d *drcon) logLines() []string {
	var out []string
	text := d.proc.Output()
	// A line still being written is not a line yet.
	text = text[:strings.LastIndexByte(text, '\n')+1]
	s := bufio.NewScanner(strings.NewReader(text))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

// countLog counts the log lines that contain s.
func (d *drcon) countLog(s string) int {
	n := 0
	for _, l := range d.logLines() {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// killGroupFromFile kills the process group whose leader's pid a command
// wrote to the file, so that a command left running by a forced stop ends
// with the test.
func killGroupFromFile(t *testing.T, path string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
}
