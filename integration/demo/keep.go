package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// stateFile, in a kept stack's directory, says what to stop.
const stateFile = "state.json"

type keptState struct {
	Label     string        `json:"label"`
	Network   string        `json:"network"`
	Processes []keptProcess `json:"processes"` // in the order they stop
}

type keptProcess struct {
	Name   string `json:"name"`
	Pid    int    `json:"pid"`
	Exe    string `json:"exe"` // /proc/PID/exe when kept: a reused pid is not ours
	Signal int    `json:"signal"`
}

// Keep leaves the stack running after this process exits and records
// what StopKept must stop.
func (s *Stack) Keep() error {
	st := keptState{Label: s.o.Label, Network: s.Network}
	for _, p := range []struct {
		proc *process
		sig  syscall.Signal
	}{{s.drcon, syscall.SIGTERM}, {s.nginx, syscall.SIGQUIT}, {s.consul, syscall.SIGTERM}} {
		if p.proc == nil {
			continue
		}
		pid := p.proc.cmd.Process.Pid
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil {
			return fmt.Errorf("keep the stack: %w", err)
		}
		st.Processes = append(st.Processes, keptProcess{Name: p.proc.name, Pid: pid, Exe: exe, Signal: int(p.sig)})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("keep the stack: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.o.Dir, stateFile), b, 0o644); err != nil {
		return fmt.Errorf("keep the stack: %w", err)
	}
	return nil
}

// Kept reports whether dir holds a kept stack that still runs.
func Kept(dir string) bool {
	st, err := readKept(dir)
	if err != nil {
		return false
	}
	for _, p := range st.Processes {
		if p.alive() {
			return true
		}
	}
	return false
}

// StopKept stops a stack that Keep left running in dir, removes its
// containers, and removes dir.
func StopKept(ctx context.Context, dir string) error {
	st, err := readKept(dir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no demo stack is kept in %s", dir)
	}
	if err != nil {
		return err
	}
	errs := []error{removeContainersAndNetwork(ctx, st.Label, st.Network)}
	for _, p := range st.Processes {
		errs = append(errs, p.stop(10*time.Second))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func readKept(dir string) (keptState, error) {
	var st keptState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("read %s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}

// alive reports whether the process runs and is still the program kept
// (also when its binary was rebuilt since: make demo builds bin/drcon).
func (p keptProcess) alive() bool {
	exe, err := os.Readlink("/proc/" + strconv.Itoa(p.Pid) + "/exe")
	return err == nil && strings.TrimSuffix(exe, " (deleted)") == strings.TrimSuffix(p.Exe, " (deleted)")
}

// stop signals the process group, waits up to grace, then kills it.
func (p keptProcess) stop(grace time.Duration) error {
	if !p.alive() {
		return nil
	}
	_ = syscall.Kill(-p.Pid, syscall.Signal(p.Signal))
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !p.alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	return fmt.Errorf("stop %s (pid %d): still running after %s; killed", p.Name, p.Pid, grace)
}
