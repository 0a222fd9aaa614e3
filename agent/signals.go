package agent

import (
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/drcon/drcon/config"
)

// signals is the agent's subscription to the signals its configuration
// names: kill_signal and SIGTERM stop it, reload_signal reloads it.
//
// consul-template catches every signal and ignores those it has no use
// for; the agent catches the ones that would otherwise end it (SIGHUP,
// SIGINT, SIGUSR1, SIGUSR2) and ignores those not named, so that a stray
// SIGHUP after reload_signal moved, or kill_signal = "" for SIGINT, does
// not kill it. Other signals keep their default action (SIGQUIT's
// goroutine dump among them), except in exec mode, where the agent passes
// on to the child the signals it gives no use (forwards among them).
type signals struct {
	c      chan os.Signal
	set    []os.Signal
	reload os.Signal   // nil when reload_signal is off
	stop   []os.Signal // SIGTERM and kill_signal
}

// caught are the signals the agent ignores when its configuration does not
// name them.
var caught = []os.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2}

func subscribe(cfg *config.Config) *signals {
	s := &signals{c: make(chan os.Signal, 4)}
	s.follow(cfg)
	return s
}

// follow subscribes to the signals cfg names. Signals are added before
// those no longer named are reset, on the same channel, so that no signal
// is lost or seen twice while a reload changes them.
func (s *signals) follow(cfg *config.Config) {
	// SIGTERM always stops, so that systemd and `docker stop` need no SIGKILL.
	s.stop = []os.Signal{syscall.SIGTERM}
	if cfg.KillSignal.Signal != 0 {
		s.stop = append(s.stop, cfg.KillSignal.Signal)
	}
	s.reload = nil
	set := slices.Clone(s.stop)
	if cfg.ReloadSignal.Signal != 0 {
		s.reload = cfg.ReloadSignal.Signal
		set = append(set, s.reload)
	}
	extra := caught
	if cfg.Exec.Enabled() {
		extra = append(slices.Clone(caught), forwards...)
	}
	for _, sig := range extra {
		if !slices.Contains(set, sig) {
			set = append(set, sig)
		}
	}
	signal.Notify(s.c, set...)
	for _, old := range s.set {
		if !slices.Contains(set, old) {
			signal.Reset(old)
		}
	}
	s.set = set
}

// reloads reports whether sig is the reload signal.
func (s *signals) reloads(sig os.Signal) bool { return s.reload != nil && sig == s.reload }

// stops reports whether sig stops the agent.
func (s *signals) stops(sig os.Signal) bool { return slices.Contains(s.stop, sig) }

func (s *signals) unsubscribe() { signal.Stop(s.c) }
