package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
	dir, err := os.MkdirTemp("", "drcon-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "drcon")
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
