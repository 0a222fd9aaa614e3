package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render"
)

// ErrForced is returned by Run when a second stop signal ended a graceful
// stop early.
var ErrForced = errors.New("stopped at once by a second signal")

// Run starts every job and supervises them until ctx ends or a stop signal
// arrives; then it stops gracefully: no new renders, running commands get
// their timeout, registrators deregister only if configured to. It reloads
// the configuration on the reload signal and on POST /v1/reload.
func (a *Agent) Run(ctx context.Context) error {
	cfg := a.config()
	if err := writePidFile(cfg.PidFile); err != nil {
		return err
	}
	defer removePidFile(cfg.PidFile)

	cmdCtx, cmdCancel := context.WithCancel(context.Background())
	cmdDone := make(chan struct{})
	go func() { defer close(cmdDone); a.commands.Run(cmdCtx) }()
	defer func() { cmdCancel(); <-cmdDone }()

	if a.opts.Data == nil {
		b, err := a.startBackend(cfg)
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.backend = b
		a.mu.Unlock()
		defer func() { a.backendNow().stop() }()
	}

	a.status = newStatusServer(a)
	if err := a.status.listen(cfg.Status.Address); err != nil {
		return err
	}
	defer a.status.close()

	for _, s := range sortedSpecs(specs(cfg)) {
		r, err := a.build(cfg, s, a.backendNow(), nil)
		if err != nil {
			a.stopAll()
			return err
		}
		a.mu.Lock()
		a.jobs[s.name] = r
		a.mu.Unlock()
		a.start(r)
	}
	a.log.Info("drcon started", "templates", len(cfg.Templates), "registrators", len(cfg.Registrators),
		"version", a.opts.Version)

	sigs := make(chan os.Signal, 4)
	a.notify(sigs, cfg)
	defer signal.Stop(sigs)

	for {
		select {
		case <-ctx.Done():
			return a.shutdown(sigs)
		case sig := <-sigs:
			cfg := a.config()
			if cfg.ReloadSignal.Signal != 0 && sig == cfg.ReloadSignal.Signal {
				a.log.Info("reloading configuration", "signal", sig.String())
				a.reload()
				a.notify(sigs, a.config())
				continue
			}
			a.log.Info("stopping", "signal", sig.String())
			return a.shutdown(sigs)
		case req := <-a.status.reloads:
			req <- a.reload()
			a.notify(sigs, a.config())
		case e := <-a.exits:
			if err := a.jobEnded(e); err != nil {
				a.log.Error("stopping: a job asked the agent to exit", "job", e.r.spec.name, "err", e.err)
				a.shutdown(sigs)
				return err
			}
		}
	}
}

// notify subscribes to the configuration's signals; SIGTERM always stops, so
// that systemd and `docker stop` need no SIGKILL.
func (a *Agent) notify(sigs chan os.Signal, cfg *config.Config) {
	signal.Stop(sigs)
	list := []os.Signal{syscall.SIGTERM}
	if cfg.KillSignal.Signal != 0 {
		list = append(list, cfg.KillSignal.Signal)
	}
	if cfg.ReloadSignal.Signal != 0 {
		list = append(list, cfg.ReloadSignal.Signal)
	}
	signal.Notify(sigs, list...)
}

// jobEnded records a job whose Run returned on its own. It returns an error
// only when the job asked the agent to exit (on_command_failure = "exit").
func (a *Agent) jobEnded(e jobExit) error {
	if errors.Is(e.err, render.ErrExitRequested) {
		return e.err
	}
	if e.err != nil {
		a.log.Error("job failed; it stays stopped until a reload changes it", "job", e.r.spec.name, "err", e.err)
	}
	return nil
}

// shutdown stops every job, waiting for each; a second stop signal returns
// ErrForced at once.
func (a *Agent) shutdown(sigs <-chan os.Signal) error {
	done := make(chan struct{})
	go func() { defer close(done); a.stopAll() }()
	for {
		select {
		case <-done:
			a.log.Info("stopped")
			return nil
		case sig := <-sigs:
			if a.config().ReloadSignal.Signal == sig {
				continue
			}
			a.log.Warn("second signal: exiting at once", "signal", sig.String())
			return ErrForced
		}
	}
}

// stopAll stops every job in parallel and waits for them.
func (a *Agent) stopAll() {
	a.mu.Lock()
	list := make([]*running, 0, len(a.jobs))
	for _, r := range a.jobs {
		list = append(list, r)
	}
	a.mu.Unlock()
	for _, r := range list {
		r.cancel()
	}
	for _, r := range list {
		<-r.done
	}
}

func (a *Agent) config() *config.Config {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cfg
}

func (a *Agent) backendNow() *backend {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.backend
}

func writePidFile(path string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

func removePidFile(path string) {
	if path != "" {
		_ = os.Remove(path)
	}
}

// since is a duration for status output, zero when t is.
func since(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return time.Since(t)
}
