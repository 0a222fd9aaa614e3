package agent

import (
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/drcon/drcon/config"
)

// signals is the agent's subscription to the signals its configuration
// names: kill_signal and SIGTERM stop it, reload_signal reloads it. Signals
// it does not name keep their default action.
type signals struct {
	c      chan os.Signal
	set    []os.Signal
	reload os.Signal // nil when reload_signal is off
}

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
	set := []os.Signal{syscall.SIGTERM}
	if cfg.KillSignal.Signal != 0 {
		set = append(set, cfg.KillSignal.Signal)
	}
	s.reload = nil
	if cfg.ReloadSignal.Signal != 0 {
		s.reload = cfg.ReloadSignal.Signal
		set = append(set, s.reload)
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

func (s *signals) stop() { signal.Stop(s.c) }
