package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/register"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// ErrInvalidJob wraps the errors of jobs that cannot be built from their
// configuration: a template that does not parse, say.
var ErrInvalidJob = errors.New("invalid job")

// running is a started job and what it takes to stop it.
type running struct {
	spec    spec
	job     jobs.Job
	sub     *watch.Subscription // template jobs on live data
	cancel  context.CancelFunc
	done    chan struct{}
	err     error // why Run returned, once done is closed
	started time.Time
}

// jobExit tells the supervisor that a job's Run returned.
type jobExit struct {
	r   *running
	err error
}

// build creates the job for s without starting it. A template job gets a
// subscription to the pool that already wants prewarm, so that dependencies
// it shares with the job it replaces keep their watcher across a reload.
func (a *Agent) build(cfg *config.Config, s spec, b *backend, prewarm []dep.Dependency) (*running, error) {
	r := &running{spec: s, done: make(chan struct{})}
	log := a.log.With("job", s.name)
	switch s.kind {
	case jobs.KindTemplate:
		var src render.Source
		if a.opts.Data != nil {
			src = a.opts.Data()
		} else {
			r.sub = b.pool.Subscribe()
			if len(prewarm) > 0 {
				r.sub.Want(prewarm)
			}
			src = r.sub
		}
		job, err := render.New(s.template, src, render.Options{
			Logger:   a.log,
			Metrics:  a.metrics,
			Commands: a.commands,
			Env:      consulEnv(cfg.Consul),
			Mode:     a.renderMode(),
			DryOut:   lockedWriter{mu: &a.dryMu, w: a.opts.DryOut},
		})
		if err != nil {
			if r.sub != nil {
				r.sub.Close()
			}
			return nil, fmt.Errorf("%w: template %q: %w", ErrInvalidJob, s.name, err)
		}
		r.job = job
	case jobs.KindRegistrator:
		job, err := register.New(s.registrator, b.consul, register.Options{Logger: log, Metrics: a.metrics})
		if err != nil {
			return nil, fmt.Errorf("%w: registrator %q: %w", ErrInvalidJob, s.name, err)
		}
		r.job = job
	default:
		return nil, fmt.Errorf("job %q: unknown kind %q", s.name, s.kind)
	}
	return r, nil
}

func (a *Agent) renderMode() render.Mode {
	switch {
	case a.opts.Dry && a.opts.Once:
		return render.ModeOnce | render.ModeDry
	case a.opts.Dry:
		return render.ModeDry
	case a.opts.Once:
		return render.ModeOnce
	}
	return render.ModeRun
}

// start runs r in its own goroutine until stop or until it returns; the
// supervisor hears of its end through a.exits.
func (a *Agent) start(r *running) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.started = time.Now()
	go func() {
		err := r.job.Run(ctx)
		if r.sub != nil {
			r.sub.Close()
		}
		r.err = err
		close(r.done)
		if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
			return // stopped by the agent
		}
		select {
		case a.exits <- jobExit{r: r, err: err}:
		case <-ctx.Done():
		}
	}()
}

// stop ends r and waits for it: a template job finishes its render, a
// registrator deregisters if it is configured to.
func (r *running) stop() {
	r.cancel()
	<-r.done
}

// wanted is what a job's subscription wants now, for prewarming its successor.
func (r *running) wanted() []dep.Dependency {
	if r == nil || r.sub == nil {
		return nil
	}
	return r.sub.Wanted()
}
