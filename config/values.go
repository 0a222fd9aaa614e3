package config

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// parseDuration parses a non-negative Go duration.
func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if _, nerr := strconv.ParseFloat(s, 64); err != nil && nerr == nil {
		return 0, fmt.Errorf("%q has no unit; write Go durations such as \"250ms\", \"5s\" or \"1m30s\"", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write Go durations such as \"250ms\", \"5s\" or \"1m30s\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return v, nil
}

// parseWaitString parses consul-template's "min[:max]"; max defaults to
// 4 x min as there.
func parseWaitString(s string) (Wait, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 2 {
		return Wait{}, fmt.Errorf("%q is not \"min\" or \"min:max\"", s)
	}
	min, err := parseDuration(parts[0])
	if err != nil {
		return Wait{}, err
	}
	w := Wait{Min: min, Max: 4 * min}
	if len(parts) == 2 {
		if w.Max, err = parseDuration(parts[1]); err != nil {
			return Wait{}, err
		}
	}
	if w.Max < w.Min {
		return Wait{}, fmt.Errorf("max %s is less than min %s", w.Max, w.Min)
	}
	return w, nil
}

// signals are the signals drcon can be told to act on. SIGKILL and SIGSTOP
// are left out because no process can catch them.
var signals = map[string]syscall.Signal{
	"SIGABRT": syscall.SIGABRT, "SIGALRM": syscall.SIGALRM, "SIGBUS": syscall.SIGBUS,
	"SIGCONT": syscall.SIGCONT, "SIGFPE": syscall.SIGFPE, "SIGHUP": syscall.SIGHUP,
	"SIGILL": syscall.SIGILL, "SIGINT": syscall.SIGINT, "SIGIO": syscall.SIGIO, "SIGIOT": syscall.SIGIOT,
	"SIGPIPE": syscall.SIGPIPE, "SIGPROF": syscall.SIGPROF, "SIGQUIT": syscall.SIGQUIT,
	"SIGSEGV": syscall.SIGSEGV, "SIGSYS": syscall.SIGSYS, "SIGTERM": syscall.SIGTERM,
	"SIGTRAP": syscall.SIGTRAP, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN,
	"SIGTTOU": syscall.SIGTTOU, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
	"SIGWINCH": syscall.SIGWINCH, "SIGXCPU": syscall.SIGXCPU, "SIGXFSZ": syscall.SIGXFSZ,
}

// parseSignal reads a signal name in any case, with or without "SIG"
// (consul-template takes "SIGHUP" in any case; "HUP" is the kill(1)
// spelling). The Name is always the canonical "SIGHUP". consul-template's
// SIGNULL, its "no signal", is "".
func parseSignal(s string, allowEmpty bool) (Signal, error) {
	if strings.EqualFold(strings.TrimSpace(s), "SIGNULL") {
		s = ""
	}
	if s == "" {
		if allowEmpty {
			return Signal{}, nil
		}
		return Signal{}, errors.New("a signal name is required")
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if name == "SIGKILL" || name == "SIGSTOP" {
		return Signal{}, fmt.Errorf("%s cannot be caught by any process", name)
	}
	sig, ok := signals[name]
	if !ok {
		names := make([]string, 0, len(signals))
		for n := range signals {
			names = append(names, n)
		}
		sort.Strings(names)
		return Signal{}, fmt.Errorf("%q is not a signal drcon can catch; use one of %s", s, strings.Join(names, ", "))
	}
	return Signal{Name: name, Signal: sig}, nil
}

// logLevels maps accepted spellings to drcon's four levels; trace and err
// are consul-template's.
var logLevels = map[string]string{
	"trace": "debug", "debug": "debug", "info": "info",
	"warn": "warn", "warning": "warn", "err": "error", "error": "error",
}

func parseLogLevel(s string) (string, error) {
	if l, ok := logLevels[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l, nil
	}
	return "", fmt.Errorf("%q is not one of \"debug\", \"info\", \"warn\" or \"error\"", s)
}

// parsePermDigits reads file permissions written as octal digits, at most
// 07777, into an os.FileMode. The setuid, setgid and sticky bits live in
// os.FileMode's own high bits, not at 04000/02000/01000 as in chmod(2).
func parsePermDigits(s string) (os.FileMode, error) {
	if s == "" || strings.Trim(s, "01234567") != "" {
		return 0, fmt.Errorf("%q is not an octal mode: use digits 0-7, such as \"0644\"", s)
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("%q is larger than 07777", s)
	}
	m := os.FileMode(n & 0o777)
	if n&0o4000 != 0 {
		m |= os.ModeSetuid
	}
	if n&0o2000 != 0 {
		m |= os.ModeSetgid
	}
	if n&0o1000 != 0 {
		m |= os.ModeSticky
	}
	return m, nil
}
