package config

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func TestParsePermDigits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want os.FileMode
		ok   bool
	}{
		{"0644", 0o644, true},
		{"644", 0o644, true},
		{"0", 0, true},
		{"0600", 0o600, true},
		{"4755", 0o755 | os.ModeSetuid, true},
		{"2750", 0o750 | os.ModeSetgid, true},
		{"1777", 0o777 | os.ModeSticky, true},
		{"07777", 0o777 | os.ModeSetuid | os.ModeSetgid | os.ModeSticky, true},
		{"000644", 0o644, true},
		{"17777", 0, false},
		{"0999", 0, false},
		{"", 0, false},
		{"0o644", 0, false},
		{"-644", 0, false},
		{"99999999999999999999999", 0, false},
	} {
		got, err := parsePermDigits(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parsePermDigits(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseWaitString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Wait
		ok   bool
	}{
		{"2s", Wait{2 * time.Second, 8 * time.Second}, true},
		{"2s:10s", Wait{2 * time.Second, 10 * time.Second}, true},
		{" 2s : 3s ", Wait{2 * time.Second, 3 * time.Second}, true},
		{"0s", Wait{}, true},
		{"5s:5s", Wait{5 * time.Second, 5 * time.Second}, true},
		{"10s:2s", Wait{}, false},
		{"-1s", Wait{}, false},
		{"1s:2s:3s", Wait{}, false},
		{"", Wait{}, false},
		{"2", Wait{}, false},
	} {
		got, err := parseWaitString(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseWaitString(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in         string
		allowEmpty bool
		want       Signal
		ok         bool
	}{
		{"SIGHUP", false, Signal{"SIGHUP", syscall.SIGHUP}, true},
		{"sighup", false, Signal{"SIGHUP", syscall.SIGHUP}, true},
		{"HUP", false, Signal{"SIGHUP", syscall.SIGHUP}, true},
		{"term", false, Signal{"SIGTERM", syscall.SIGTERM}, true},
		{"", true, Signal{}, true},
		{"", false, Signal{}, false},
		{"SIGKILL", false, Signal{}, false},
		{"STOP", false, Signal{}, false},
		{"SIGNULL", false, Signal{}, false},
		{"SIGNULL", true, Signal{}, true}, // consul-template's "no signal"
		{"SIGIOT", false, Signal{"SIGIOT", syscall.SIGIOT}, true},
		{"9", false, Signal{}, false},
	} {
		got, err := parseSignal(tc.in, tc.allowEmpty)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSignal(%q, %v) = %v, %v; want %v, ok=%v", tc.in, tc.allowEmpty, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	for in, want := range map[string]string{
		"trace": "debug", "DEBUG": "debug", "info": "info", "WARN": "warn", "warning": "warn",
		"err": "error", "ERROR": "error", "loud": "", "": "",
	} {
		got, err := parseLogLevel(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("parseLogLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
