package agent

import (
	"context"
	"fmt"
	"net"
	"time"
)

// sdNotify speaks systemd's notification protocol for Type=notify units:
// READY=1 once every job is ready, after the start and after each reload,
// as consul-template sends it after each complete render, and STOPPING=1
// when the agent stops. nil (no NOTIFY_SOCKET) sends nothing.
type sdNotify struct {
	addr *net.UnixAddr
	kick chan struct{} // a reload: send READY=1 again once ready
}

func newSDNotify(socket string) *sdNotify {
	if socket == "" {
		return nil
	}
	// Go maps a leading '@' to the abstract namespace, as systemd means it.
	return &sdNotify{addr: &net.UnixAddr{Name: socket, Net: "unixgram"}, kick: make(chan struct{}, 1)}
}

// send writes one state datagram; a failure is returned for the log.
func (n *sdNotify) send(state string) error {
	if n == nil {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("systemd notify: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("systemd notify: %w", err)
	}
	return nil
}

// reloaded asks for READY=1 again once the reloaded jobs are ready.
func (n *sdNotify) reloaded() {
	if n == nil {
		return
	}
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// notifyReady sends READY=1 each time every job has become ready: after
// the start, and after each reload. It checks while one is owed, every
// readyPoll; jobs report readiness in their status, not by event.
func (a *Agent) notifyReady(ctx context.Context, n *sdNotify) {
	const readyPoll = 50 * time.Millisecond
	timer := time.NewTimer(0)
	defer timer.Stop()
	owed := true
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.kick:
			owed = true
			timer.Reset(readyPoll)
		case <-timer.C:
			if !owed {
				continue
			}
			ready, total := a.readyJobs("")
			if ready < total {
				timer.Reset(readyPoll)
				continue
			}
			owed = false
			if err := n.send(fmt.Sprintf("READY=1\nSTATUS=%d jobs ready", total)); err != nil {
				a.log.Warn("could not tell systemd that drcon is ready", "err", err)
			}
		}
	}
}

// readyJobs counts the jobs of kind ("": any) that are ready, of all of
// that kind.
func (a *Agent) readyJobs(kind string) (ready, total int) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, r := range a.jobs {
		if kind != "" && r.spec.kind != kind {
			continue
		}
		total++
		if r.job.Status().Ready {
			ready++
		}
	}
	return ready, total
}
