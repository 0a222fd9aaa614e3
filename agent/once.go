package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/template/dep"
)

// ErrOnceTimeout is wrapped by Once when data did not arrive in time.
var ErrOnceTimeout = errors.New("timed out waiting for data")

// Once renders every template job once (running their commands unless Dry)
// and returns when all have finished, or when Options.Timeout passes, with an
// error that names each failed job and, on timeout, the dependencies it was
// still waiting for. Registrator blocks do not run in this mode.
func (a *Agent) Once(ctx context.Context) error {
	_, err := a.runOnce(ctx)
	return err
}

// SaveSnapshot renders every template once against live Consul, without writing
// files or running commands, and writes the answer of every dependency the
// templates used to w, for rendering offline with -data.
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
		ctx, cancel = context.WithTimeout(ctx, a.opts.Timeout)
		defer cancel()
	}
	cmdCtx, cmdCancel := context.WithCancel(context.Background())
	cmdDone := make(chan struct{})
	go func() { defer close(cmdDone); a.commands.Run(cmdCtx) }()
	defer func() { cmdCancel(); <-cmdDone }()

	if a.opts.Data == nil {
		b, err := a.startBackend(cfg)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.backend = b
		a.mu.Unlock()
		defer b.stop()
	}

	var (
		mu   sync.Mutex
		errs []error
		data = map[dep.Dependency]any{}
		wg   sync.WaitGroup
	)
	for _, s := range sortedSpecs(specs(cfg)) {
		if s.kind != jobs.KindTemplate {
			continue
		}
		r, err := a.build(cfg, s, a.backendNow(), nil)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		a.jobs[s.name] = r
		a.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.job.Run(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					err = fmt.Errorf("%w: %w", ErrOnceTimeout, err)
				}
				errs = append(errs, fmt.Errorf("template %q: %w", s.name, err))
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
		}()
	}
	wg.Wait()
	return data, errors.Join(errs...)
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
