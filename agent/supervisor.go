package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/render"
)

// Run starts every job (and exec mode's child once every template has
// rendered) and supervises them until ctx ends or a stop signal
// (kill_signal, or SIGTERM) arrives; then it stops gracefully: no new
// renders, running commands get their timeout, registrators deregister only
// if configured to, and Run returns nil. A second stop signal makes it
// return ErrForced at once, after killing the commands and the child that
// still run (Kill). It reloads the configuration on reload_signal
// and on POST /v1/reload. A job whose command failed with
// on_command_failure = "exit", or whose template failed with error_fatal,
// stops the agent the same graceful way, and Run returns that job's error
// (matching render.ErrExitRequested or render.ErrTemplateFatal); the child
// ending on its own stops it too, and Run returns a *child.ExitError.
func (a *Agent) Run(ctx context.Context) error {
	cfg := a.config()
	// Signals first: a signal during startup must not kill the process
	// with its default action.
	sigs := subscribe(cfg)
	defer sigs.unsubscribe()

	if a.opts.Data == nil {
		b, err := a.startBackend(cfg)
		if err != nil {
			return &JobError{Job: "consul", Kind: "block", Err: err, invalid: true}
		}
		a.mu.Lock()
		a.backend = b
		a.mu.Unlock()
	}
	stopBackend := func() { a.backendNow().stop() }
	// Every job is built before any starts, so that a configuration with
	// a bad job starts nothing.
	built, err := a.buildAll(cfg, sortedSpecs(a.specs(cfg)), a.backendNow(), nil)
	if err != nil {
		stopBackend()
		return err
	}
	a.status = newStatusServer(a)
	bound, err := a.status.bind(cfg.Status.Address)
	if err != nil {
		closeAll(built)
		stopBackend()
		return err
	}
	if err := writePidFile(cfg.PidFile); err != nil {
		bound.abandon()
		closeAll(built)
		stopBackend()
		return err
	}
	// The jobs are in place before the status server answers, so that
	// /healthz is 503 until they have rendered.
	a.mu.Lock()
	a.jobs = built
	a.mu.Unlock()
	a.status.serve(bound)

	cmdCtx, cmdCancel := context.WithCancel(context.Background())
	cmdDone := make(chan struct{})
	go func() { defer close(cmdDone); _ = a.commands.Run(cmdCtx) }()
	cr := a.startChild(cfg)
	a.mu.Lock()
	a.child = cr
	a.mu.Unlock()
	for _, s := range sortedSpecs(a.specs(cfg)) {
		a.start(built[s.name])
	}
	a.startChildWhenReady(cr) // at once when there is no template
	if cr != nil && !cr.child.Started() {
		a.log.Info("exec: the child starts once every template has rendered", "command", cfg.Exec.Command.String())
	}
	a.log.Info("drcon started", "jobs", len(built), "version", a.opts.Version)
	if a.notify != nil {
		notifyCtx, notifyStop := context.WithCancel(context.Background())
		notifyDone := make(chan struct{})
		go func() { defer close(notifyDone); a.notifyReady(notifyCtx, a.notify) }()
		defer func() { notifyStop(); <-notifyDone }()
	}

	stopCommands := func() { cmdCancel(); <-cmdDone }
	result := a.supervise(ctx, sigs, stopCommands)
	if errors.Is(result, ErrForced) {
		// Nothing more is waited for: registrators that deregister are
		// left as they are; no process drcon started is left behind.
		a.Kill()
		removePidFile(a.config().PidFile)
		return result
	}
	a.status.shutdown()
	stopBackend()
	removePidFile(a.config().PidFile)
	a.log.Info("stopped")
	return result
}

// Kill kills at once, with SIGKILL, every process the agent started that
// still runs: the process groups of running commands and exec mode's child.
// It is for a process about to exit without waiting for them (a second
// stop signal), which must not leave them running; each is logged.
func (a *Agent) Kill() {
	a.commands.Kill()
	if cr := a.childNow(); cr != nil {
		cr.child.Kill()
	}
}

// supervise serves signals, reload requests and jobs that end, until the
// agent stops; it returns when every job and command has stopped (nil, or
// the error of a job that asked the agent to exit), or at once with
// ErrForced.
func (a *Agent) supervise(ctx context.Context, sigs *signals, stopCommands func()) error {
	for {
		select {
		case <-ctx.Done():
			a.log.Info("stopping", "reason", context.Cause(ctx).Error())
			return a.shutdown(sigs, stopCommands, nil)
		case sig := <-sigs.c:
			if sigs.reloads(sig) {
				a.log.Info("reloading configuration", "signal", sig.String())
				a.applyReload(sigs, func(ReloadStatus) {})
				continue
			}
			if !sigs.stops(sig) {
				if cr := a.childNow(); cr != nil {
					cr.child.Signal(sig)
					continue
				}
				a.log.Info("signal ignored: the configuration gives it no use", "signal", sig.String())
				continue
			}
			a.log.Info("stopping", "signal", sig.String())
			return a.shutdown(sigs, stopCommands, nil)
		case req := <-a.status.reloads:
			a.log.Info("reloading configuration", "request", "POST /v1/reload")
			a.applyReload(sigs, func(st ReloadStatus) { req <- st })
		case err := <-a.childExits:
			a.log.Info("stopping: the exec child ended", "err", err)
			return a.shutdown(sigs, stopCommands, err)
		case e := <-a.exits:
			if errors.Is(e.err, render.ErrExitRequested) {
				a.log.Error("stopping: a job's command failed and on_command_failure is exit",
					"job", e.r.spec.name, "err", e.err)
				return a.shutdown(sigs, stopCommands, e.err)
			}
			if errors.Is(e.err, render.ErrTemplateFatal) {
				a.log.Error("stopping: a job's template failed and error_fatal is true",
					"job", e.r.spec.name, "err", e.err)
				return a.shutdown(sigs, stopCommands, e.err)
			}
			if e.err != nil {
				a.log.Error("job stopped with an error; a reload that changes it restarts it",
					"job", e.r.spec.name, "err", e.err)
			}
		}
	}
}

// applyReload reloads the configuration; answer sees the outcome before the
// status listener moves (a POST /v1/reload is answered by the old one).
// Then systemd hears of a reload that changed something, and the signals
// follow the new configuration.
func (a *Agent) applyReload(sigs *signals, answer func(ReloadStatus)) {
	st, after := a.reload()
	answer(st)
	after()
	if st.Outcome == reloadOK {
		a.notify.reloaded()
	}
	sigs.follow(a.config())
}

// shutdown stops every job in parallel and then the command runner, which
// lets running commands finish within their timeout. It returns reason
// once all have stopped, or ErrForced as soon as a second stop signal
// arrives; the reload signal is ignored meanwhile.
func (a *Agent) shutdown(sigs *signals, stopCommands func(), reason error) error {
	if err := a.notify.send("STOPPING=1"); err != nil {
		a.log.Warn("could not tell systemd that drcon is stopping", "err", err)
	}
	a.mu.Lock()
	a.stopping = true
	list := make([]*running, 0, len(a.jobs))
	for _, r := range a.jobs {
		list = append(list, r)
	}
	a.mu.Unlock()
	close(a.status.stopping)

	// This goroutine ends when the last job and command have; after
	// ErrForced the process exits without waiting for it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, r := range list {
			r.cancel()
		}
		a.childNow().stop()
		for _, r := range list {
			<-r.done
		}
		stopCommands()
	}()
	for {
		select {
		case <-done:
			return reason
		case sig := <-sigs.c:
			if !sigs.stops(sig) {
				a.log.Info("signal ignored while stopping", "signal", sig.String())
				continue
			}
			a.log.Warn("second signal: exiting at once", "signal", sig.String())
			return ErrForced
		}
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
