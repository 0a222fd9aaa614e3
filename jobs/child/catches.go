package child

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// catches reports whether process pid has a handler installed for sig,
// from the SigCgt and SigIgn masks of /proc/PID/status. A reload signal
// sent before that dies with the process (the default action of SIGHUP,
// SIGUSR1 and SIGUSR2 ends it) or is discarded (haproxy's master ignores
// SIGUSR2 for ~30 ms of each start and re-exec). Where the masks cannot be
// read it says yes: holding the signal would then only delay it.
func catches(pid int, sig syscall.Signal) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true
	}
	caught, ok := catchesIn(status, sig)
	return caught || !ok
}

// catchesIn reads a /proc/PID/status text: whether sig is caught and not
// ignored, and whether both masks were there to say so.
func catchesIn(status []byte, sig syscall.Signal) (caught, ok bool) {
	if sig < 1 || sig > 64 {
		return false, false
	}
	bit := uint64(1) << (sig - 1)
	var cgt, ign uint64
	var haveCgt, haveIgn bool
	for line := range bytes.Lines(status) {
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		mask, err := strconv.ParseUint(string(bytes.TrimSpace(value)), 16, 64)
		switch string(name) {
		case "SigCgt":
			cgt, haveCgt = mask, err == nil
		case "SigIgn":
			ign, haveIgn = mask, err == nil
		}
	}
	if !haveCgt || !haveIgn {
		return false, false
	}
	return cgt&bit != 0 && ign&bit == 0, true
}
