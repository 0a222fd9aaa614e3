package agent

import (
	"context"
	"fmt"
	"os"
	"syscall"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/child"
	"github.com/drcon/drcon/jobs/render"
)

// childRun is exec mode's child as the agent runs it.
type childRun struct {
	child  *child.Child
	key    string // what it was built from; a reload that changes it restarts it
	cancel context.CancelFunc
	done   chan struct{}
}

// childEnv is the child's environment, and a key of everything that shapes
// the child: its settings and that environment, which follows the consul {}
// block.
func childEnv(cfg *config.Config) (env []string, key string) {
	env = render.Environment(os.Environ(), cfg.Exec.Env, consulEnv(cfg.Consul))
	return env, fmt.Sprintf("%#v|%q", cfg.Exec, env)
}

// replaceChild applies a reload to the child: one whose settings did not
// change keeps running (consul-template restarts it on every reload); one
// that changed is stopped and its successor started once the templates are
// ready; exec {} removed stops it.
func (a *Agent) replaceChild(next *config.Config) {
	old := a.childNow()
	if !next.Exec.Enabled() && old == nil {
		return
	}
	if old != nil && next.Exec.Enabled() {
		if _, key := childEnv(next); key == old.key {
			return
		}
	}
	old.stop()
	cr := a.startChild(next)
	a.mu.Lock()
	a.child = cr
	a.mu.Unlock()
	a.startChildWhenReady(cr)
}

// runChildOnce runs the child of a -once run, after every template has
// rendered, and returns how it ended: consul-template's -once with exec
// waits for the child. ctx ending stops it.
func (a *Agent) runChildOnce(ctx context.Context) error {
	cr := a.startChild(a.config())
	if cr == nil {
		return nil
	}
	a.mu.Lock()
	a.child = cr
	a.mu.Unlock()
	cr.child.Start()
	select {
	case err := <-a.childExits:
		<-cr.done
		return err
	case <-ctx.Done():
		cr.stop()
		return context.Cause(ctx)
	}
}

// startChild builds exec mode's child for cfg and runs it; the child waits
// for every template to render (startChildWhenReady). nil without exec mode,
// and in dry runs, which start nothing.
func (a *Agent) startChild(cfg *config.Config) *childRun {
	if !cfg.Exec.Enabled() {
		return nil
	}
	if a.opts.Dry {
		a.log.Info("exec: the child does not run in a dry run", "command", cfg.Exec.Command.String())
		return nil
	}
	env, key := childEnv(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	cr := &childRun{
		child: child.New(cfg.Exec, child.Options{Env: env, Logger: a.log,
			Acted: func(action string) { a.execActions.WithLabelValues(action).Inc() }}),
		key:    key,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(cr.done)
		err := cr.child.Run(ctx)
		if ctx.Err() != nil {
			return // stopped by the agent
		}
		select {
		case a.childExits <- err:
		case <-ctx.Done():
		}
	}()
	return cr
}

// stop stops the child and waits for it; nil does nothing.
func (cr *childRun) stop() {
	if cr == nil {
		return
	}
	cr.cancel()
	<-cr.done
}

func (a *Agent) childNow() *childRun {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.child
}

// templateRendered is every template job's Rendered hook: before the child
// has started it starts it once all templates are ready; after, a changed
// file reloads or restarts it.
func (a *Agent) templateRendered(job string, wrote bool) {
	cr := a.childNow()
	switch {
	case cr == nil:
	case cr.child.Started():
		if wrote {
			if action, ok := a.execAction(job); ok {
				cr.child.Changed(action)
			}
		}
	default:
		a.startChildWhenReady(cr)
	}
}

// execAction is what a change of job's file does to the child (its
// exec_on_change); false for "none".
func (a *Agent) execAction(job string) (child.Action, bool) {
	a.mu.RLock()
	r := a.jobs[job]
	a.mu.RUnlock()
	if r == nil || r.spec.template == nil {
		return child.Follow, true
	}
	switch r.spec.template.ExecOnChange {
	case "none":
		return child.Follow, false
	case "reload":
		return child.Reload, true
	case "restart":
		return child.Restart, true
	}
	return child.Follow, true
}

// startChildWhenReady starts the child if every template job has rendered,
// as consul-template starts it after the first complete run.
func (a *Agent) startChildWhenReady(cr *childRun) {
	if cr == nil {
		return
	}
	if ready, total := a.readyJobs(jobs.KindTemplate); ready == total {
		cr.child.Start()
	}
}

// forwards are the signals the agent passes on to the child when its
// configuration gives them no use of its own, as consul-template passes on
// every signal: SIGQUIT, say, asks nginx to finish its requests and stop.
var forwards = []os.Signal{syscall.SIGQUIT, syscall.SIGWINCH, syscall.SIGALRM, syscall.SIGTTIN, syscall.SIGTTOU}
