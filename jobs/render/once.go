package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/drcon/drcon/template/dep"
)

// once renders as soon as the data is complete and returns.
func (r *run) once(ctx context.Context) error {
	j := r.j
	for {
		complete, err := r.render(ctx)
		if err != nil {
			return err
		}
		if complete {
			return r.awaitCommand(ctx)
		}
		// As consul-template does once its retries are spent: a query that
		// keeps failing (an unknown datacenter, say) fails the render.
		if err := r.failedDependencies(); err != nil {
			return r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("render job %q: gave up waiting for data (%w): missing %s",
				j.cfg.Name, context.Cause(ctx), strings.Join(depStrings(dep.Sort(slices.Clone(r.missing))), ", "))
		case <-j.src.Changed():
		}
		// A dependency of the last pass that failed for good fails the
		// render even if the next pass would not use it: consul-template
		// stops at the failure, whatever else arrived with it.
		if err := r.failedDependencies(); err != nil {
			return r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
		}
	}
}

// failedDependencies joins the failures of the missing dependencies that
// will not get data.
func (r *run) failedDependencies() error {
	return r.failures(r.missing, false)
}

// failures joins the source's failures of ds; with lookups, only the
// failed lookups (err_on_failed_lookup).
func (r *run) failures(ds []dep.Dependency, lookups bool) error {
	var errs []error
	for _, d := range ds {
		err := r.j.src.Failure(d)
		if err != nil && (!lookups || errors.Is(err, dep.ErrFailedLookup)) {
			errs = append(errs, fmt.Errorf("%s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}

// awaitCommand waits for the command of a once render and reports it.
func (r *run) awaitCommand(ctx context.Context) error {
	if r.pending == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return fmt.Errorf("render job %q: command %s did not finish: %w",
			r.j.cfg.Name, r.j.cfg.Command.String(), context.Cause(ctx))
	case <-r.pending.Done():
	}
	res := r.pending.Result()
	r.recordCommand(res)
	if failed(res) {
		return fmt.Errorf("render job %q: command %s: %s", r.j.cfg.Name, res.Command, describe(res))
	}
	return nil
}
