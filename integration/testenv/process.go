package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a program started by a test, in its own process group, whose
// output is kept for the test log.
type Process struct {
	Cmd  *exec.Cmd
	name string

	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
	waited error
}

type lockedWriter struct{ p *Process }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.out.Write(b)
}

// Start runs cmd in its own process group. t.Cleanup kills the group if the
// test did not stop it, and logs the output when the test failed.
func Start(t testing.TB, name string, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, name: name, done: make(chan struct{})}
	cmd.Stdout = lockedWriter{p}
	cmd.Stderr = lockedWriter{p}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waited = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, excerpt(p.Output()))
		}
	})
	return p
}

// excerpt keeps the start and the end of a long output: a test log that
// prints a Consul agent's whole debug log buries the test's own failure,
// and CI shows only the end of what make test printed.
func excerpt(out string) string {
	const head, tail = 20, 60
	lines := strings.Split(out, "\n")
	if len(lines) <= head+tail+1 {
		return out
	}
	return strings.Join(lines[:head], "\n") + fmt.Sprintf("\n[... %d lines left out ...]\n", len(lines)-head-tail) +
		strings.Join(lines[len(lines)-tail:], "\n")
}

// Output is everything the process wrote so far.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// Signal sends sig to the process (not its group).
func (p *Process) Signal(sig syscall.Signal) error {
	return p.Cmd.Process.Signal(sig)
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Wait waits up to timeout for the process to exit and returns its exit
// error; ok is false on timeout.
func (p *Process) Wait(timeout time.Duration) (err error, ok bool) {
	select {
	case <-p.done:
		return p.waited, true
	case <-time.After(timeout):
		return nil, false
	}
}

// Stop sends SIGTERM to the group and waits up to 10s, then kills it.
func (p *Process) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	if _, ok := p.Wait(10 * time.Second); !ok {
		p.Kill()
	}
}

// Kill sends SIGKILL to the whole group and waits for the process.
func (p *Process) Kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// GroupAlive reports whether a live process of the process group pgid is
// left; zombies, which their parent (or init) reaps, count as gone.
func GroupAlive(pgid string) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(b), ") ")
		// state ppid pgrp ...
		if fields := strings.Fields(rest); len(fields) > 2 && fields[2] == pgid && fields[0] != "Z" {
			return true
		}
	}
	return false
}
