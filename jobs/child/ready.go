package child

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Whether the child is ready for a signal, from the masks of
// /proc/PID/status. A signal sent when it is not dies with it (the default
// action of SIGHUP, SIGUSR1 and SIGUSR2 ends it) or is lost: haproxy's
// master, re-executing itself for a reload, blocks and ignores its signals
// for 30-200 ms and drops the ones that come then, so that a SIGUSR1 to stop
// it then leaves it running.

// readyIn reads a /proc/PID/status text: the signals the process has a
// handler for and neither ignores nor blocks; ok is false unless all three
// masks were there to say so.
func readyIn(status []byte) (mask uint64, ok bool) {
	var cgt, ign, blk uint64
	have := 0
	for line := range bytes.Lines(status) {
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		var dst *uint64
		switch string(name) {
		case "SigCgt":
			dst = &cgt
		case "SigIgn":
			dst = &ign
		case "SigBlk":
			dst = &blk
		default:
			continue
		}
		v, err := strconv.ParseUint(string(bytes.TrimSpace(value)), 16, 64)
		if err != nil {
			return 0, false
		}
		*dst = v
		have++
	}
	if have != 3 {
		return 0, false
	}
	return cgt &^ ign &^ blk, true
}

// bit is sig's bit in the masks; zero for a number they do not hold.
func bit(sig syscall.Signal) uint64 {
	if sig < 1 || sig > 64 {
		return 0
	}
	return 1 << (sig - 1)
}

// readyFor reports whether p is ready for sig now, and records the signals
// it is seen ready for. Where the masks cannot be read it says yes: holding
// the signal would then only delay it.
func (p *process) readyFor(sig syscall.Signal) bool {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return true
	}
	mask, ok := readyIn(status)
	if !ok {
		return true
	}
	p.seen |= mask
	return mask&bit(sig) != 0
}

// settle is how long after a reload signal the child counts as settling:
// haproxy's master re-executes itself about 2 ms after SIGUSR2 and is not
// ready again for 120-150 ms, and a signal that comes before its exec is
// lost too, though the masks say ready then.
const settle = 250 * time.Millisecond

// awaitReady holds sig until p is ready for it and has settled from the
// last reload signal, if p was seen ready for sig before: p handles sig,
// and a moment when it is not ready is one when it would lose it. A
// process never seen handling sig gets it at once, its default action or
// its choice to ignore it being what it asks for. It returns once p is
// ready, has exited, ctx has ended, or limit has passed.
func (c *Child) awaitReady(ctx context.Context, p *process, sig syscall.Signal, limit time.Duration) {
	if p.group || p.seen&bit(sig) == 0 {
		return
	}
	ready := func() bool { return time.Since(p.reloaded) >= settle && p.readyFor(sig) }
	if ready() {
		return
	}
	c.log.Info("holding the signal: the child handles it but is reloading", "signal", sig.String(), "pid", p.pid())
	start := time.Now()
	tick := time.NewTicker(holdPoll)
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		select {
		case <-p.exited:
			return
		case <-ctx.Done():
			return
		case <-deadline.C:
			c.log.Warn("the child is still not ready for the signal: sending it anyway", "signal", sig.String(),
				"pid", p.pid(), "held", limit.String())
			return
		case <-tick.C:
			if ready() {
				c.log.Info("the child is ready for the signal now", "signal", sig.String(), "pid", p.pid(),
					"held", time.Since(start).Round(time.Millisecond).String())
				return
			}
		}
	}
}
