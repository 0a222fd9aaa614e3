// Package testenv starts and stops the real services that drcon's
// integration tests and benchmarks talk to: a Consul dev agent, an nginx of
// the test's own, the local Docker engine with images built FROM scratch, and
// the binaries of drcon and consul-template. Everything listens on loopback,
// lives in a temp dir, and is stopped by t.Cleanup.
//
// A missing service skips the test with a message that says how to get it,
// unless DRCON_INTEGRATION=require (set by CI), which fails it instead.
package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Required reports whether a missing service fails a test rather than skips it.
func Required() bool { return os.Getenv("DRCON_INTEGRATION") == "require" }

// Missing ends the test because a service it needs is not available.
func Missing(t testing.TB, service, howTo string, err error) {
	t.Helper()
	msg := fmt.Sprintf("%s not available (%v); %s", service, err, howTo)
	if Required() {
		t.Fatalf("DRCON_INTEGRATION=require: %s", msg)
	}
	t.Skip(msg)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago,
// and that this process has not handed out before. It is drawn from below
// the kernel's ephemeral range (32768-60999 on Linux): a port the kernel
// picks for ":0" is also what it gives outgoing connections as their source
// port, and a listener that later binds it while a connection holds it
// fails with "address already in use" (seen under load).
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := PickPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// PickPort is FreePort for code outside tests (the demo stack).
func PickPort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	for range 1000 {
		p := freeLow + rand.N(freeHigh-freeLow)
		if ports.given[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		ports.given[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", freeLow, freeHigh)
}

const freeLow, freeHigh = 20000, 32768

// ports are the ports FreePort has handed out in this process.
var ports = struct {
	sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

// RepoRoot is the module's root directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// cacheDir is where built binaries are kept between runs.
func cacheDir() string {
	if d := os.Getenv("DRCON_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "drcon")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "drcon")
}

// lookBinary finds a program: the environment variable env if set, then the
// given candidate paths, then PATH.
func lookBinary(env string, candidates []string, name string) (string, error) {
	if p := os.Getenv(env); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", env, p, err)
		}
		return p, nil
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c, nil
		}
	}
	var dirs []string
	dirs = append(dirs, strings.Split(os.Getenv("PATH"), ":")...)
	dirs = append(dirs, "/usr/sbin", "/usr/local/sbin", "/sbin")
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found (set %s or put it on PATH)", name, env)
}
