// Command rssjob runs one registrator job and nothing else, so that the
// registrator benchmarks can measure its memory as a process of its own.
// It stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs/register"
	"github.com/hashicorp/consul/api"
)

func main() {
	consul := flag.String("consul", "127.0.0.1:8500", "Consul agent address")
	filter := flag.String("filter", "", "label=value the containers must have")
	internal := flag.Bool("internal", false, "register container addresses (internal = true)")
	flag.Parse()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = *consul
	client, err := api.NewClient(cfg)
	if err != nil {
		fail(err)
	}
	r := &config.Registrator{Name: "rss", Cleanup: true, Deregister: "always", Internal: *internal, Filter: map[string]string{}}
	if k, v, ok := strings.Cut(*filter, "="); ok {
		r.Filter[k] = v
	}
	job, err := register.New(r, client, register.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := job.Run(ctx); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "rssjob:", err)
	os.Exit(1)
}
