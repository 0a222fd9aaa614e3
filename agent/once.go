package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/template/dep"
)

// Once renders every template job once (running their commands unless Dry)
// and returns when all have finished, or when Options.Timeout passes (zero:
// no limit). Its error joins a *JobError for each template that failed;
// those still waiting at the timeout match ErrOnceTimeout and name the
// dependencies they were waiting for. Registrator blocks do not run in
// this mode. With exec {}, the child then runs to its end, and a
// *child.ExitError says how it ended.
func (a *Agent) Once(ctx context.Context) error {
	if _, err := a.runOnce(ctx); err != nil {
		return err
	}
	return a.runChildOnce(ctx)
}

// SaveSnapshot renders every template once against live Consul, without
// writing files or running commands, and writes the answer of every
// dependency the templates used to w, for rendering offline with -data.
func (a *Agent) SaveSnapshot(ctx context.Context, w io.Writer, write func(io.Writer, map[dep.Dependency]any) error) error {
	data, err := a.runOnce(ctx)
	if err != nil {
		return err
	}
	return write(w, data)
}

// runOnce runs the template jobs to completion and returns the data they used.
func (a *Agent) runOnce(ctx context.Context) (map[dep.Dependency]any, error) {
	cfg := a.config()
	if a.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, a.opts.Timeout,
			fmt.Errorf("%w after %s", ErrOnceTimeout, a.opts.Timeout))
		defer cancel()
	}
	if a.opts.Data == nil {
		b, err := a.startBackend(cfg)
		if err != nil {
			return nil, &JobError{Job: "consul", Kind: "block", Err: err, invalid: true}
		}
		a.mu.Lock()
		a.backend = b
		a.mu.Unlock()
		defer b.stop()
	}
	templates := sortedSpecs(a.specs(cfg))
	if len(cfg.Registrators) > 0 {
		a.log.Warn("registrator blocks do not run with -once, -dry or snapshot", "registrators", len(cfg.Registrators))
	}
	if a.opts.Dry && a.opts.DryOut != nil {
		a.dryOnce = map[string]*bytes.Buffer{}
		for _, s := range templates {
			a.dryOnce[s.name] = new(bytes.Buffer)
		}
		defer a.printDryOnce(cfg)
	}
	built, err := a.buildAll(cfg, templates, a.backendNow(), nil)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.jobs = built
	a.mu.Unlock()

	cmdCtx, cmdCancel := context.WithCancel(context.Background())
	cmdDone := make(chan struct{})
	go func() { defer close(cmdDone); _ = a.commands.Run(cmdCtx) }()
	defer func() { cmdCancel(); <-cmdDone }()

	var (
		mu   sync.Mutex
		errs []error
		data = map[dep.Dependency]any{}
		wg   sync.WaitGroup
	)
	for _, s := range templates {
		r := built[s.name]
		wg.Go(func() {
			err := r.job.Run(ctx)
			if err != nil && ctx.Err() != nil {
				err = a.whyMissing(err, r.job.Status().Missing)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, &JobError{Job: s.name, Kind: s.kind, At: s.declRange(), Err: err})
			} else if r.sub != nil {
				for _, d := range r.sub.Wanted() {
					if v, ok := r.sub.Recall(d); ok {
						data[d] = v
					}
				}
			}
			if r.sub != nil {
				r.sub.Close()
			}
			close(r.done)
		})
	}
	wg.Wait()
	slices.SortFunc(errs, func(x, y error) int { return strings.Compare(x.(*JobError).Job, y.(*JobError).Job) })
	return data, errors.Join(errs...)
}

// whyMissing adds to the error of a job that gave up waiting the last error
// of each dependency it waited for whose queries are failing: "missing
// kv.block(app/a)" alone reads as a key that does not exist, where Consul
// may be unreachable or refuse the token (consul-template names the error).
func (a *Agent) whyMissing(err error, missing []string) error {
	b := a.backendNow()
	if b == nil || len(missing) == 0 {
		return err
	}
	failing := map[string]string{}
	for _, d := range b.pool.Status() {
		if d.Failures > 0 && !d.HasData {
			// The fetcher's errors name the dependency; the message names it once.
			failing[d.Dependency] = fmt.Sprintf("%d queries failed in a row, the last: %s",
				d.Failures, strings.TrimPrefix(d.LastError, "fetch "+d.Dependency+": "))
		}
	}
	var why []string
	for _, m := range missing {
		if f, ok := failing[m]; ok {
			why = append(why, m+": "+f)
		}
	}
	if len(why) == 0 {
		return err
	}
	return fmt.Errorf("%w; %s", err, strings.Join(why, "; "))
}

// dryOut is where the job prints its renders in dry mode: the output
// itself, serialised with the other jobs', or in -once the job's own
// buffer, which printDryOnce prints.
func (a *Agent) dryOut(job string) io.Writer {
	if b, ok := a.dryOnce[job]; ok {
		return b // written by the job's goroutine only, read once all have ended
	}
	return lockedWriter{mu: &a.dryMu, w: a.opts.DryOut}
}

// printDryOnce prints the renders of -once -dry in the order of the
// configuration, as consul-template does, whatever order the jobs ended
// in: a CI job diffs this output.
func (a *Agent) printDryOnce(cfg *config.Config) {
	for _, t := range cfg.Templates {
		if b := a.dryOnce[t.Name]; b != nil && b.Len() > 0 {
			if _, err := a.opts.DryOut.Write(b.Bytes()); err != nil {
				a.log.Warn("printing the dry run", "error", err)
				return
			}
		}
	}
}

// lockedWriter serialises the dry-run output of concurrent jobs.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	if l.w == nil {
		return len(b), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
