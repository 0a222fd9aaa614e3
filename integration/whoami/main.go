// Command whoami is the demo and test service of the DR CoN stack: an HTTP
// server that answers every request with its hostname, built FROM scratch.
//
// It drains on SIGTERM: it keeps serving for DRAIN (default 2s) so that load
// balancers can stop sending it traffic, then shuts down. Its health, as seen
// by a Docker HEALTHCHECK running `/whoami -check`, can be switched with
// `POST /health?status=fail|ok`.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	check := flag.Bool("check", false, "exit 0 if the server on ADDR reports healthy, 1 otherwise")
	flag.Parse()
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = ":80"
	}
	if *check {
		os.Exit(healthCheck(addr))
	}
	if err := serve(addr); err != nil {
		fmt.Fprintln(os.Stderr, "whoami:", err)
		os.Exit(1)
	}
}

func healthCheck(addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/health")
	if err != nil {
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

func serve(addr string) error {
	host, _ := os.Hostname()
	drain := 2 * time.Second
	if d, err := time.ParseDuration(os.Getenv("DRAIN")); err == nil {
		drain = d
	}
	var unhealthy atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			unhealthy.Store(r.URL.Query().Get("status") == "fail")
		}
		if unhealthy.Load() {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, host)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	time.Sleep(drain)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
