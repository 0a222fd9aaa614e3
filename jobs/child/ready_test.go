package child

import (
	"syscall"
	"testing"
)

func TestReadyIn(t *testing.T) {
	// The masks of haproxy 2.6's master as it starts and as it re-executes
	// itself for a reload, read a few milliseconds apart.
	const (
		starting  = "Name:\thaproxy\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000100402000\n"
		ignoring  = "SigBlk:\t0000000000310a01\nSigIgn:\t0000000004001800\nSigCgt:\t0000000100702205\n"
		reexec    = "SigBlk:\tfffffffffffbfeff\nSigIgn:\t0000000004001800\nSigCgt:\t0000000100000000\n"
		listening = "SigBlk:\t0000000000000000\nSigIgn:\t0000000004001004\nSigCgt:\t0000000100716a03\n"
	)
	for _, tc := range []struct {
		name, status string
		sig          syscall.Signal
		ready, ok    bool
	}{
		{"default action", starting, syscall.SIGUSR2, false, true},
		{"ignored while set up", ignoring, syscall.SIGUSR2, false, true},
		{"caught but blocked", ignoring, syscall.SIGUSR1, false, true},
		{"re-executing", reexec, syscall.SIGUSR1, false, true},
		{"caught", listening, syscall.SIGUSR2, true, true},
		{"SIGUSR1 caught", listening, syscall.SIGUSR1, true, true},
		{"SIGHUP caught", listening, syscall.SIGHUP, true, true},
		{"SIGQUIT ignored", listening, syscall.SIGQUIT, false, true},
		{"no blocked mask", "SigIgn:\t0\nSigCgt:\t1\n", syscall.SIGHUP, false, false},
		{"no masks", "Name:\tx\n", syscall.SIGHUP, false, false},
		{"bad mask", "SigBlk:\t0\nSigIgn:\tzz\nSigCgt:\t1\n", syscall.SIGHUP, false, false},
		{"no signal", listening, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mask, ok := readyIn([]byte(tc.status))
			if ready := mask&bit(tc.sig) != 0; ready != tc.ready || ok != tc.ok {
				t.Errorf("readyIn(%s) = %v, %v; want %v, %v", tc.sig, ready, ok, tc.ready, tc.ok)
			}
		})
	}
}
