package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// The template benchmarks run drcon and consul-template v0.41.1 as the
// programs users run, with the same flags (-consul-addr, -template, -once)
// against one real Consul, and measure each process from outside: its
// rusage at exit, or /proc while it runs.

// tmplTools are the two programs under comparison.
type tmplTools struct{ drcon, ct string }

func tmplFindTools(b *testing.B) tmplTools {
	b.Helper()
	return tmplTools{drcon: testenv.Drcon(b), ct: testenv.ConsulTemplate(b)}
}

// tmplArgs are the arguments both programs take alike: the same Consul, one
// or more -template SRC:DEST flags, warnings and errors only in the log.
func tmplArgs(addr string, templates ...string) []string {
	args := []string{"-consul-addr", addr, "-log-level", "warn"}
	for _, t := range templates {
		args = append(args, "-template", t)
	}
	return args
}

// tmplUsage is what one process cost.
type tmplUsage struct {
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
}

// tmplRunOnce runs a program to completion through the rusage helper
// (testdata/template/rusage: a process started by this big test would
// report the test's RSS as its own peak) and returns its usage.
func tmplRunOnce(b *testing.B, bin string, args ...string) tmplUsage {
	b.Helper()
	cmd := exec.Command(tmplRusage(b), append([]string{bin}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	var cpuNS, rssKB int64
	if _, err := fmt.Sscan(stdout.String(), &cpuNS, &rssKB); err != nil {
		b.Fatalf("rusage printed %q: %v", stdout.String(), err)
	}
	return tmplUsage{cpu: time.Duration(cpuNS), maxRSS: rssKB * 1024}
}

// tmplRusage builds the rusage helper once per test process.
func tmplRusage(b *testing.B) string { return tmplHelper(b, "rusage") }

var tmplHelpers struct {
	sync.Mutex
	paths map[string]string
}

// tmplHelper builds the program testdata/template/NAME once per test
// process and returns its path.
func tmplHelper(b *testing.B, name string) string {
	b.Helper()
	tmplHelpers.Lock()
	defer tmplHelpers.Unlock()
	if p, ok := tmplHelpers.paths[name]; ok {
		return p
	}
	bin := filepath.Join(testenv.ProcessDir(b, "drcon-"+name+"-"), name)
	cmd := exec.Command("go", "build", "-o", bin, "./integration/bench/testdata/template/"+name)
	cmd.Dir = testenv.RepoRoot(b)
	// Static, as drcon and consul-template are built for the benchmarks.
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build the %s helper: %v\n%s", name, err, out)
	}
	if tmplHelpers.paths == nil {
		tmplHelpers.paths = map[string]string{}
	}
	tmplHelpers.paths[name] = bin
	return bin
}

// tmplProcUsage reads a running process's CPU time (/proc/PID/stat, in
// clock ticks of 10 ms) and peak RSS (VmHWM of /proc/PID/status).
func tmplProcUsage(b *testing.B, pid int) tmplUsage {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read stat of %d: %v", pid, err)
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	u := tmplUsage{cpu: time.Duration(utime+stime) * 10 * time.Millisecond}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("read status of %d: %v", pid, err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			u.maxRSS = kb * 1024
		}
	}
	return u
}

// tmplDaemon starts a program that runs until the benchmark ends.
func tmplDaemon(b *testing.B, name, bin string, args ...string) *testenv.Process {
	b.Helper()
	p := testenv.Start(b, name, exec.Command(bin, args...))
	b.Cleanup(p.Stop)
	return p
}

// tmplInstance is one service instance in the catalog.
type tmplInstance struct {
	node, service, id string
	port              int
}

// tmplNode is the catalog node name and loopback address of node i.
func tmplNode(i int) (name, addr string) {
	return fmt.Sprintf("bench-node-%03d", i), fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
}

// tmplRegister puts nodes and instances in the catalog with transactions
// (128 operations each, several at once): thousands of instances take a
// second instead of a minute of single registrations. Instances without
// checks count as passing.
func tmplRegister(b *testing.B, c *api.Client, nodes int, instances []tmplInstance) {
	b.Helper()
	var ops api.TxnOps
	for i := range nodes {
		name, addr := tmplNode(i)
		ops = append(ops, &api.TxnOp{Node: &api.NodeTxnOp{Verb: api.NodeSet, Node: api.Node{Node: name, Address: addr}}})
	}
	tmplTxn(b, c, ops) // nodes before their services
	ops = ops[:0]
	for _, in := range instances {
		ops = append(ops, &api.TxnOp{Service: &api.ServiceTxnOp{Verb: api.ServiceSet, Node: in.node,
			Service: api.AgentService{ID: in.id, Service: in.service, Port: in.port, Tags: []string{"bench"}}}})
	}
	tmplTxn(b, c, ops)
}

// tmplTxn applies ops in transactions of at most 128 (Consul's limit),
// four at a time.
func tmplTxn(b *testing.B, c *api.Client, ops api.TxnOps) {
	b.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []string
		sem  = make(chan struct{}, 4)
	)
	for chunk := range slices.Chunk(ops, 128) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, resp, _, err := c.Txn().Txn(chunk, nil)
			if err != nil || !ok {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%v %v", err, resp))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Fatalf("catalog transactions failed: %s", strings.Join(errs, "; "))
	}
}

// tmplWrite writes a file of the benchmark.
func tmplWrite(b *testing.B, path, content string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

// tmplReport reports a measure of each program and drcon's share of
// consul-template's.
func tmplReport(b *testing.B, name, unit string, drcon, ct float64) {
	b.ReportMetric(drcon, "drcon-"+name+"-"+unit)
	b.ReportMetric(ct, "ct-"+name+"-"+unit)
	if ct > 0 {
		b.ReportMetric(drcon/ct, name+"-drcon/ct")
	}
}

func tmplMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func tmplMB(n int64) float64         { return float64(n) / (1 << 20) }
