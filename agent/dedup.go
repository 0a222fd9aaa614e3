package agent

import (
	"context"

	"github.com/hashicorp/consul/api"
	"golang.org/x/sync/errgroup"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/template/dedup"
	"github.com/drcon/drcon/template/watch"
)

// dedupMember wraps f, the backend's Consul fetcher, in a dedup member when
// the configuration shares data among agents; nil otherwise. -once never
// shares (as consul-template's -once): it renders and exits before a group
// could form.
func (a *Agent) dedupMember(cfg *config.Config, client *api.Client, f watch.Fetcher) *dedup.Member {
	if !cfg.Dedup.Enabled || a.opts.Once {
		return nil
	}
	return dedup.New(client, f, dedup.Options{
		Prefix:         cfg.Dedup.Prefix,
		TTL:            cfg.Dedup.TTL,
		MaxStale:       cfg.MaxStale,
		BlockQueryWait: cfg.BlockQueryWait,
		Version:        a.opts.Version,
		Logger:         a.log,
	})
}

// runBackend runs the backend's pool and, with dedup, its member until ctx
// ends; the member then lets go of its lock before the backend is done.
func (a *Agent) runBackend(ctx context.Context, b *backend) {
	var g errgroup.Group
	g.Go(func() error { return b.pool.Run(ctx) })
	if b.dedup != nil {
		g.Go(func() error { return b.dedup.Run(ctx, b.pool.Status) })
	}
	if err := g.Wait(); err != nil {
		a.log.Error("watcher pool stopped", "err", err)
	}
}

// dedupStatus is the member's status, nil without dedup.
func (b *backend) dedupStatus() *dedup.Status {
	if b == nil || b.dedup == nil {
		return nil
	}
	s := b.dedup.Status()
	return &s
}
