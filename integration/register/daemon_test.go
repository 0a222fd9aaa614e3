package register

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// daemon is a Docker engine of one test's own, so that restarting it
// disturbs no other test on the machine. It has a bridge of its own (never
// --bridge none: that makes dockerd delete docker0, the shared engine's
// bridge), leaves iptables alone and keeps containers running across its
// restarts (live-restore).
type daemon struct {
	dir       string
	host      string
	bridge    string
	args      []string
	proc      *testenv.Process
	restarted time.Time
}

// ownPort publishes a container's port 80 on a loopback port that was free
// a moment ago. A test's own engine must not let Docker pick one: each
// engine hands out ports from the bottom of the same range, unaware of the
// other's, and the shared engine's containers may hold the ones this engine
// picks first ("bind: address already in use").
func ownPort(t *testing.T) string {
	return "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t)) + ":80"
}

func startDaemon(t *testing.T) *daemon {
	t.Helper()
	d := newDaemon(t)
	d.restart(t)
	return d
}

// newDaemon prepares an engine without starting it.
func newDaemon(t *testing.T) *daemon {
	t.Helper()
	testenv.Docker(t)
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		testenv.Missing(t, "dockerd", "apt-get install -y docker.io", err)
	}
	if os.Geteuid() != 0 {
		testenv.Missing(t, "root", "a Docker engine of the test's own needs root", fmt.Errorf("euid %d", os.Geteuid()))
	}
	// A short directory: the engine's sockets live under it.
	dir, err := os.MkdirTemp("", "drcon-dk-")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	d := &daemon{dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), bridge: fmt.Sprintf("drc%x", b)}
	t.Cleanup(func() { d.teardown(t) })
	subnet := fmt.Sprintf("10.213.%d.1/24", 1+int(b[0])%250)
	for _, args := range [][]string{
		{"link", "add", d.bridge, "type", "bridge"},
		{"addr", "add", subnet, "dev", d.bridge},
		{"link", "set", d.bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	d.args = []string{bin, "--host", d.host, "--data-root", filepath.Join(dir, "root"),
		"--exec-root", filepath.Join(dir, "exec"), "--pidfile", filepath.Join(dir, "docker.pid"),
		"--bridge", d.bridge, "--iptables=false", "--ip-masq=false", "--live-restore"}
	return d
}

// restart starts the engine (again) and waits until it answers.
func (d *daemon) restart(t *testing.T) {
	t.Helper()
	// Stamped before the engine answers: the job may reconnect and reconcile
	// before this function sees the engine ready.
	d.restarted = time.Now()
	d.proc = testenv.Start(t, "dockerd", exec.Command(d.args[0], d.args[1:]...))
	testenv.WaitFor(t, time.Minute, "dockerd of the test", func() bool {
		return exec.Command("docker", "-H", d.host, "info").Run() == nil
	})
}

// stop ends the engine as a daemon restart does: SIGTERM to dockerd only.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop dockerd: %v", err)
	}
	if _, ok := d.proc.Wait(time.Minute); !ok {
		t.Fatalf("dockerd did not stop")
	}
}

// load copies an image of the shared engine into this one.
func (d *daemon) load(t *testing.T, image string) {
	t.Helper()
	cmd := fmt.Sprintf("docker save %s | docker -H %s load -q", image, d.host)
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

// teardown removes the engine's containers, stops it, kills what outlived
// it, and removes its mounts, directory and bridge.
func (d *daemon) teardown(t *testing.T) {
	if d.proc != nil {
		select {
		case <-d.proc.Done():
		default:
			out, _ := exec.Command("docker", "-H", d.host, "ps", "-aq").Output()
			if ids := strings.Fields(string(out)); len(ids) > 0 {
				_ = exec.Command("docker", append([]string{"-H", d.host, "rm", "-f"}, ids...)...).Run()
			}
			_ = d.proc.Signal(syscall.SIGTERM)
			d.proc.Wait(time.Minute)
		}
	}
	// With --live-restore the containers outlive an engine that a test (or
	// its process's cleanup) stopped: their shims name this directory.
	killUnder(d.dir)
	for _, m := range mountsUnder(d.dir) {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil {
			t.Logf("unmount %s: %v", m, err)
		}
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Logf("remove %s: %v", d.dir, err)
	}
	_ = exec.Command("ip", "link", "del", d.bridge).Run()
}

// killUnder kills, with SIGKILL, the processes whose command line names dir
// (an engine's container shims) and their children (the containers).
func killUnder(dir string) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	parent := map[int]int{}
	var named []int
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		if stat, err := os.ReadFile(p + "/stat"); err == nil {
			// pid (comm) state ppid ...: comm may hold spaces, so count from its ')'.
			if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 1 {
				parent[pid], _ = strconv.Atoi(f[1])
			}
		}
		if cmd, err := os.ReadFile(p + "/cmdline"); err == nil && strings.Contains(string(cmd), dir+"/") {
			named = append(named, pid)
		}
	}
	for pid, ppid := range parent {
		if slices.Contains(named, ppid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, pid := range named {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(out)))
	return out
}

func killProcess(t *testing.T, pid int) {
	t.Helper()
	if pid <= 0 {
		t.Fatalf("no process to kill")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
}
