package child

import (
	"syscall"
	"testing"
)

func TestCatchesIn(t *testing.T) {
	// The masks of haproxy 2.6's master as it starts, read 10 ms apart.
	const (
		starting  = "Name:\thaproxy\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000100402000\n"
		ignoring  = "SigBlk:\t0000000000310a01\nSigIgn:\t0000000004001800\nSigCgt:\t0000000100702205\n"
		listening = "SigBlk:\t0000000000000000\nSigIgn:\t0000000004001004\nSigCgt:\t0000000100716a03\n"
	)
	for _, tc := range []struct {
		name, status string
		sig          syscall.Signal
		caught, ok   bool
	}{
		{"default action", starting, syscall.SIGUSR2, false, true},
		{"ignored while set up", ignoring, syscall.SIGUSR2, false, true},
		{"caught", listening, syscall.SIGUSR2, true, true},
		{"SIGHUP caught", listening, syscall.SIGHUP, true, true},
		{"SIGQUIT ignored", listening, syscall.SIGQUIT, false, true},
		{"no masks", "Name:\tx\n", syscall.SIGHUP, false, false},
		{"bad mask", "SigIgn:\tzz\nSigCgt:\t1\n", syscall.SIGHUP, false, false},
		{"no signal", listening, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			caught, ok := catchesIn([]byte(tc.status), tc.sig)
			if caught != tc.caught || ok != tc.ok {
				t.Errorf("catchesIn(%s) = %v, %v; want %v, %v", tc.sig, caught, ok, tc.caught, tc.ok)
			}
		})
	}
}
