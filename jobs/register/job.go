// Package register is drcon's registrator: one job per registrator block
// keeps a Consul agent's services equal to the containers a Docker engine
// runs, reading gliderlabs/registrator's SERVICE_* labels and variables.
//
// Docker events feed one queue of pending work per container; a few workers
// take each container's work in order, inspect the container live, decide
// its services (build.go, decide.go: pure), and apply the difference with
// what the agent has (diff.go: pure). Full reconciles, which list both sides,
// run at start, after every reconnect to Docker, after the Consul agent
// comes back, and every resync.
package register

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/hashicorp/consul/api"
	"golang.org/x/sync/errgroup"
)

// Options are the job's collaborators.
type Options struct {
	Logger  *slog.Logger
	Metrics *jobs.Metrics // nil records nothing
	// Workers is how many containers are converged at once; default 8.
	Workers int
}

// Job is one registrator block. Run it once.
type Job struct {
	name       string
	cfg        *config.Registrator
	set        settings
	docker     dockerAPI
	dockerHost string // the engine's address, docker_host or its default
	agent      agentAPI
	log        *slog.Logger
	metrics    *jobs.Metrics
	workers    int

	q    *queue
	kick chan struct{} // asks the reconciler for a full reconcile
	// owning tells the agent watch that a container got services, so that
	// it has one to watch.
	owning chan struct{}
	// seq orders the agent listings of reconciles against drcon's own
	// writes: a container's cached state that was written after a listing
	// began is newer than the listing.
	seq atomic.Uint64
	// agentLost counts the times the agent could not be reached (watchConsul):
	// an agent that restarted may have lost its services while keeping its
	// node ID (a fixed node_id, a data directory that kept only that).
	agentLost atomic.Uint64
	// agentNode and agentLostAt are the agent's node ID and agentLost at
	// the last reconcile; only the reconciler uses them.
	agentNode   string
	agentLostAt uint64

	mu      sync.Mutex // guards everything below
	entries map[string]*entry
	// gone are the last seqs of the entries dropped while a reconcile's
	// listing may still be applied (nil otherwise): an entry made again
	// for that container must not take the listing, older than its last
	// write, for what the agent has (see entry).
	gone    map[string]uint64
	holders map[string]*holder // by service ID
	id      identity
	st      status
}

// New prepares the job of one registrator block; it contacts nothing.
func New(cfg *config.Registrator, consul *api.Client, o Options) (*Job, error) {
	if cfg == nil || consul == nil {
		return nil, fmt.Errorf("registrator: a configuration and a Consul client are required")
	}
	set, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	workers := o.Workers
	if workers <= 0 {
		workers = 8
	}
	return &Job{
		name: cfg.Name, cfg: cfg, set: set, docker: eng, dockerHost: eng.endpoint, agent: agent{c: consul},
		log: log, metrics: o.Metrics, workers: workers,
		q: newQueue(), kick: make(chan struct{}, 1), owning: make(chan struct{}, 1),
		entries: map[string]*entry{},
		holders: map[string]*holder{},
		st:      status{state: stateStarting},
	}, nil
}

// Name is the block's label.
func (j *Job) Name() string { return j.name }

// Run keeps the agent's services in line with the engine's containers
// until ctx ends. Docker or Consul being away is retried, forever; Run
// returns nil when ctx ends, after deregistering the block's services if
// deregister_on_exit is set.
func (j *Job) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for range j.workers {
		g.Go(func() error { return j.work(gctx) })
	}
	g.Go(func() error { return j.watchDocker(gctx) })
	g.Go(func() error { return j.watchConsul(gctx) })
	g.Go(func() error { return j.reconciler(gctx) })
	err := g.Wait()
	j.q.close()
	if j.cfg.DeregisterOnExit {
		j.deregisterAll(ctx)
	}
	j.setState(stateStopped)
	return err
}

// exitTimeout bounds deregistering on exit, which runs after ctx ended.
const exitTimeout = 5 * time.Second

func (j *Job) deregisterAll(ctx context.Context) {
	owner := j.identity().Owner
	if owner == "" {
		j.log.Warn("deregister on exit: never reached Docker, so no services of this block are known")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), exitTimeout)
	defer cancel()
	services, err := j.agent.owned(ctx, owner, "")
	if err != nil {
		j.log.Error("deregister on exit", "err", err)
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.workers)
	for id := range services {
		g.Go(func() error {
			if err := j.agent.deregister(gctx, id); err != nil {
				j.log.Error("deregister on exit", "service", id, "err", err)
				return nil
			}
			j.countWrite("deregister")
			return nil
		})
	}
	_ = g.Wait()
	j.log.Info("deregistered on exit", "services", len(services))
}

func (j *Job) identity() identity {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.id
}

// kickReconcile asks for a full reconcile; asks made while one is pending
// are one ask.
func (j *Job) kickReconcile() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}
