// Package agent is drcon's composition root: it owns the configuration, the
// Consul client and the process-wide watcher pool, runs every template job
// and registrator block with its own lifetime, reloads the configuration by
// diff, stops gracefully, and serves status, health and metrics. It holds no
// rendering or registration logic of its own.
package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/metrics"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/template/dedup"
	"github.com/drcon/drcon/template/watch"
)

// Options are the run's settings that do not come from the configuration.
type Options struct {
	// Load re-reads the configuration (same paths and flags) for a reload.
	Load func() (*config.Config, error)
	// Logging is the process's logging; its level and format follow reloads.
	Logging *Logging
	// Version is reported in status.
	Version string
	// Once renders every template once (running commands) and returns.
	Once bool
	// Dry prints renders to DryOut instead of writing files and running commands.
	Dry    bool
	DryOut io.Writer
	// Timeout bounds how long Once waits for data.
	Timeout time.Duration
	// Data, when set, gives each template job its view of a fixed data set
	// (a snapshot read from a file) to render from instead of Consul.
	Data func() render.Source
}

// Agent runs jobs. Create it with New and start it with Run, Once or Snapshot.
type Agent struct {
	opts    Options
	log     *slog.Logger
	started time.Time

	registry *metrics.Registry
	metrics  *jobs.Metrics
	reloads  *metrics.CounterVec
	// execActions counts the exec child's reloads and restarts, across
	// children replaced by reloads.
	execActions *metrics.CounterVec

	// mu guards what the status server reads; the supervisor (or Once) is
	// the only writer.
	mu         sync.RWMutex
	cfg        *config.Config
	jobs       map[string]*running
	backend    *backend
	child      *childRun // exec mode's; nil without
	lastReload *ReloadStatus
	stopping   bool

	status   *statusServer
	commands *render.CommandRunner
	dryMu    sync.Mutex
	// dryOnce holds each template's -once -dry output until every job has
	// ended (onceDry); nil otherwise.
	dryOnce map[string]*bytes.Buffer
	exits   chan jobExit
	// childExits carries why exec mode's child ended on its own.
	childExits chan error
	notify     *sdNotify // nil unless systemd gave a NOTIFY_SOCKET
}

// New prepares an agent for cfg; nothing runs until Run, Once or Snapshot.
func New(cfg *config.Config, o Options) (*Agent, error) {
	if o.Logging == nil {
		return nil, errors.New("agent: no logging")
	}
	a := &Agent{
		opts:     o,
		log:      o.Logging.Logger(),
		started:  time.Now(),
		cfg:      cfg,
		jobs:     map[string]*running{},
		registry: metrics.NewRegistry(),
		exits:    make(chan jobExit, 16),

		childExits: make(chan error, 1),
		notify:     newSDNotify(os.Getenv("NOTIFY_SOCKET")),
	}
	a.metrics = jobs.NewMetrics(a.registry)
	a.registerMetrics()
	a.commands = render.NewCommandRunner(render.CommandRunnerOptions{Logger: a.log, Metrics: a.metrics})
	return a, nil
}

// backend is what jobs reach Consul through; it is replaced as a whole when
// the consul {} block or the watcher settings change.
type backend struct {
	consul *api.Client
	pool   *watch.Pool
	dedup  *dedup.Member // nil without dedup
	cancel context.CancelFunc
	done   chan struct{}
	key    string
}

// backendKey is everything that, when changed, replaces the backend.
func backendKey(cfg *config.Config) string {
	return fmt.Sprintf("%s|%s|%s|%t|%s|%s", cfg.Consul.Fingerprint(), cfg.MaxStale, cfg.BlockQueryWait,
		cfg.Dedup.Enabled, cfg.Dedup.Prefix, cfg.Dedup.TTL)
}

// startBackend builds the Consul client and starts its watcher pool.
func (a *Agent) startBackend(cfg *config.Config) (*backend, error) {
	client, resolved, err := newConsulAPI(cfg.Consul)
	if err != nil {
		return nil, err
	}
	var fetcher watch.Fetcher = newFetcher(client, resolved, cfg.Consul)
	member := a.dedupMember(cfg, client, fetcher)
	if member != nil {
		fetcher = member
	}
	pool := watch.New(fetcher, watch.Options{
		MaxStale:       cfg.MaxStale,
		BlockQueryWait: cfg.BlockQueryWait,
		Retry: watch.Retry{
			Attempts:   attempts(cfg.Consul.Retry.Attempts),
			Backoff:    cfg.Consul.Retry.Backoff,
			MaxBackoff: cfg.Consul.Retry.MaxBackoff,
		},
		FirstDataOnly: a.opts.Once,
		Logger:        a.log,
	})
	ctx, cancel := context.WithCancel(context.Background())
	b := &backend{consul: client, pool: pool, dedup: member, cancel: cancel, done: make(chan struct{}), key: backendKey(cfg)}
	go func() {
		defer close(b.done)
		a.runBackend(ctx, b)
	}()
	return b, nil
}

// stop ends the pool and waits for its pollers.
func (b *backend) stop() {
	if b == nil {
		return
	}
	b.cancel()
	<-b.done
}

// attempts maps the configuration's "0: never report a failure" onto the
// pool, whose zero means its default.
func attempts(n int) int {
	if n == 0 {
		return math.MaxInt32
	}
	return n
}
