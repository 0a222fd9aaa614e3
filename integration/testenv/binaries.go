package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

var drconBuild struct {
	sync.Mutex
	path string
}

// Drcon builds the drcon binary once per test process and returns its path:
// static as `make build` builds it, or with the race detector (which needs
// cgo) when the test runs with -race.
func Drcon(t testing.TB) string {
	t.Helper()
	drconBuild.Lock()
	defer drconBuild.Unlock()
	if drconBuild.path != "" {
		return drconBuild.path
	}
	bin := filepath.Join(ProcessDir(t, "drcon-bin-"), "drcon")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "./cmd/drcon")...)
	cmd.Dir = RepoRoot(t)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if !raceEnabled {
		cmd.Env = append(cmd.Env, "CGO_ENABLED=0")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build drcon: %v\n%s", err, out)
	}
	drconBuild.path = bin
	return bin
}

// ConsulTemplate finds consul-template v0.41.1, the oracle of the template
// language and the baseline of the benchmarks.
func ConsulTemplate(t testing.TB) string {
	t.Helper()
	home, _ := os.UserHomeDir()
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = filepath.Join(home, "go")
	}
	bin, err := lookBinary("DRCON_CONSUL_TEMPLATE", []string{filepath.Join(gopath, "bin", "consul-template")}, "consul-template")
	if err != nil {
		Missing(t, "consul-template", "CGO_ENABLED=0 go install github.com/hashicorp/consul-template@v0.41.1", err)
	}
	return bin
}

// ProcessDir makes a temp directory, named PREFIX<pid>-..., for what a test
// process builds once and shares among its tests until it exits (a binary).
// Go's testing has no hook at process exit, so each call first removes the
// directories of PREFIX whose process is gone: what is left behind is
// bounded by the test processes running at once.
func ProcessDir(t testing.TB, prefix string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, m := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), prefix), "-")
		pid, err := strconv.Atoi(pidText)
		if ok && err == nil && pid != os.Getpid() && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			_ = os.RemoveAll(m)
		}
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", prefix, os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}
