package agent

import (
	"context"
	"errors"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/register"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// running is a started job and what it takes to stop it.
type running struct {
	spec spec
	job  jobs.Job
	sub  *watch.Subscription // template jobs on live data
	// registrator is the job's own copy of its block, so that the agent can
	// tell a replaced registrator to leave its services to its successor.
	registrator *config.Registrator
	cancel      context.CancelFunc
	done        chan struct{}
	err         error // why Run returned, once done is closed
}

// jobExit tells the supervisor that a job's Run returned on its own.
type jobExit struct {
	r   *running
	err error
}

// buildAll builds the jobs of specs, in name order, without starting any,
// and returns every job that cannot be built, joined. prewarm gives the
// dependencies a replacement should want before its predecessor stops.
func (a *Agent) buildAll(cfg *config.Config, list []spec, b *backend, prewarm func(name string) []dep.Dependency) (map[string]*running, error) {
	built := make(map[string]*running, len(list))
	var errs []error
	for _, s := range list {
		var want []dep.Dependency
		if prewarm != nil {
			want = prewarm(s.name)
		}
		r, err := a.build(cfg, s, b, want)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		built[s.name] = r
	}
	if len(errs) > 0 {
		closeAll(built)
		return nil, errors.Join(errs...)
	}
	return built, nil
}

// closeAll lets go of jobs that were built but will never start.
func closeAll(built map[string]*running) {
	for _, r := range built {
		if r.sub != nil {
			r.sub.Close()
		}
	}
}

// build creates the job for s without starting it. A template job gets a
// subscription to the pool that already wants prewarm, so that dependencies
// it shares with the job it replaces keep their watcher across a reload.
func (a *Agent) build(cfg *config.Config, s spec, b *backend, prewarm []dep.Dependency) (*running, error) {
	r := &running{spec: s, done: make(chan struct{})}
	invalid := func(err error) error {
		return &JobError{Job: s.name, Kind: s.kind, At: s.declRange(), Err: err, invalid: true}
	}
	switch s.kind {
	case jobs.KindTemplate:
		var src render.Source
		if a.opts.Data != nil {
			src = a.opts.Data()
		} else {
			r.sub = b.pool.Subscribe()
			if s.template.ErrOnFailedLookup {
				r.sub.FailLookups()
			}
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
			DryOut:   a.dryOut(s.name),
			Rendered: a.templateRendered,
		})
		if err != nil {
			if r.sub != nil {
				r.sub.Close()
			}
			return nil, invalid(err)
		}
		r.job = job
	case jobs.KindRegistrator:
		if b == nil {
			return nil, invalid(errors.New("registrators need Consul, and this run has none"))
		}
		own := *s.registrator
		r.registrator = &own
		job, err := register.New(r.registrator, b.consul, register.Options{Logger: a.log.With("job", s.name), Metrics: a.metrics})
		if err != nil {
			return nil, invalid(err)
		}
		r.job = job
	default:
		return nil, invalid(errors.New("unknown kind of job"))
	}
	return r, nil
}

func (a *Agent) renderMode() render.Mode {
	var m render.Mode
	if a.opts.Once {
		m |= render.ModeOnce
	}
	if a.opts.Dry {
		m |= render.ModeDry
	}
	return m
}

// start runs r in its own goroutine until it is cancelled or returns; the
// supervisor hears of a job that returned on its own through a.exits.
func (a *Agent) start(r *running) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
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

// handOver stops r because a new version of it takes over: a registrator
// then leaves its services to its successor, whatever deregister_on_exit
// says, rather than flap every one of them for the length of the restart.
// The write happens before cancel, which orders it before the job reads
// the setting on its way out.
func (r *running) handOver() {
	if r.registrator != nil {
		r.registrator.DeregisterOnExit = false
	}
	r.cancel()
}

// ended reports whether r's Run has returned.
func (r *running) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// wanted is what a job's subscription wants now, for prewarming its successor.
func (r *running) wanted() []dep.Dependency {
	if r == nil || r.sub == nil {
		return nil
	}
	return r.sub.Wanted()
}
