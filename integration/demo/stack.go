// Package demo runs the DR CoN stack of examples/ on this machine: a Consul
// dev agent, an nginx and drcon configured by an example, and containers of
// the demo service (integration/whoami); and the scaling scenario that
// `make demo` shows and integration/e2e asserts on. It owns the rewriting
// of an example's system paths and ports (and nothing else) so that the
// stack runs beside a user's own nginx and Consul, on loopback only.
//
// What a stack starts it stops (Close), unless it is kept running for the
// user (Keep, then StopKept).
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/drcon/drcon/integration/testenv"
)

// Ports are the loopback ports of a stack; a zero port is picked free.
type Ports struct {
	ConsulHTTP, ConsulDNS, ConsulServer, ConsulSerfLAN, ConsulSerfWAN, ConsulGRPC int
	Proxy                                                                         int // stands for port 80
	Status                                                                        int // drcon's status listener
}

// DemoPorts are make demo's: the usual ports of Consul, nginx (8080 for 80)
// and drcon's status plus 10000, so that a user's own keep theirs; all
// below 32768, where the kernel picks the ports of outgoing connections.
var DemoPorts = Ports{ConsulHTTP: 18500, ConsulDNS: 18600, ConsulServer: 18300, ConsulSerfLAN: 18301,
	ConsulSerfWAN: 18302, ConsulGRPC: 18502, Proxy: 18080, Status: 18090}

// Binaries are the programs a stack runs.
type Binaries struct {
	Drcon, Consul, Nginx string
}

// ContainerLabel marks the containers of a stack, with Options.Label as
// value; Close removes them by it.
const ContainerLabel = "drcon.demo"

// Options say what stack to run.
type Options struct {
	Dir string // everything the stack writes goes here; created if missing
	// Example is the directory of the drcon configuration (drcon.hcl) and
	// of the templates it names: examples, examples/urlprefix, ...
	Example string
	// NginxConf is the nginx.conf nginx runs with (examples/nginx.conf);
	// empty runs no nginx.
	NginxConf string
	Binaries  Binaries
	Ports     Ports
	Edits     []Edit // applied to drcon.hcl after the paths and ports
	// Label, required, is the value of ContainerLabel on the stack's
	// containers, and names its Docker network.
	Label string
	// Keep starts the programs so that they outlive this process.
	Keep bool
}

// Stack is a running DR CoN stack.
type Stack struct {
	o     Options
	Paths Paths
	// Config is the drcon configuration it runs; Destination is the nginx
	// file that the examples' template job writes.
	Config, Destination string
	// Network is the Docker network of the stack's containers. Docker's
	// default bridge changes its MAC address as containers come and go
	// (Debian's docker.io 20.10), and the containers' replies then go to
	// the old one for seconds: requests through a published port stall
	// 3-20 s. A network of its own keeps its address.
	Network string

	consul, nginx, drcon *process
	// pickedConsulPorts is set when Consul's ports were picked free rather
	// than given: those may be changed if another program took one.
	pickedConsulPorts bool
}

// Start writes the stack's configuration from the example and starts
// Consul, nginx and drcon; it returns when drcon is healthy (every job ran
// once). nginx listens once a template gave it a server: WaitProxy waits
// for that. On error Start stops what it started.
func Start(ctx context.Context, o Options) (*Stack, error) {
	s := &Stack{o: o, Network: "drcon-" + o.Label}
	err := s.layout()
	if err == nil {
		err = createNetwork(ctx, s.Network, o.Label)
	}
	if err == nil {
		err = s.startConsul(ctx)
	}
	if err == nil && o.NginxConf != "" {
		err = s.startNginx(ctx)
	}
	if err == nil {
		err = s.startDrcon(ctx)
	}
	if err != nil {
		return nil, errors.Join(err, s.Close(context.WithoutCancel(ctx)))
	}
	return s, nil
}

// layout picks the ports and writes the rewritten example.
func (s *Stack) layout() error {
	o := &s.o
	if o.Dir == "" || o.Example == "" || o.Label == "" {
		return errors.New("demo stack: Dir, Example and Label are required")
	}
	s.pickedConsulPorts = o.Ports.ConsulHTTP == 0
	for _, p := range []*int{&o.Ports.ConsulHTTP, &o.Ports.ConsulDNS, &o.Ports.ConsulServer,
		&o.Ports.ConsulSerfLAN, &o.Ports.ConsulSerfWAN, &o.Ports.ConsulGRPC, &o.Ports.Proxy, &o.Ports.Status} {
		if *p == 0 {
			free, err := freePort()
			if err != nil {
				return err
			}
			*p = free
		}
	}
	s.Paths = Paths{
		Nginx:      filepath.Join(o.Dir, "nginx"),
		Haproxy:    filepath.Join(o.Dir, "haproxy"),
		ConsulAddr: loopback(o.Ports.ConsulHTTP),
		StatusAddr: loopback(o.Ports.Status),
		ProxyAddr:  loopback(o.Ports.Proxy),
	}
	s.Destination = filepath.Join(s.Paths.Nginx, "drcon", "upstreams.conf")
	for _, d := range []string{"etc", "logs", "nginx/drcon", "nginx/logs", "nginx/tmp", "haproxy"} {
		if err := os.MkdirAll(filepath.Join(o.Dir, d), 0o755); err != nil {
			return fmt.Errorf("demo stack: %w", err)
		}
	}
	entries, err := os.ReadDir(o.Example)
	if err != nil {
		return fmt.Errorf("demo stack: read example: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		var edits []Edit
		if e.Name() == "drcon.hcl" {
			edits = o.Edits
		}
		if err := s.writeRewritten(filepath.Join(o.Example, e.Name()), filepath.Join(o.Dir, "etc", e.Name()), edits); err != nil {
			return err
		}
	}
	s.Config = filepath.Join(o.Dir, "etc", "drcon.hcl")
	if _, err := os.Stat(s.Config); err != nil {
		return fmt.Errorf("demo stack: example %s has no drcon.hcl: %w", o.Example, err)
	}
	if o.NginxConf == "" {
		return nil
	}
	if err := s.writeRewritten(o.NginxConf, filepath.Join(s.Paths.Nginx, "nginx.conf"), nil); err != nil {
		return err
	}
	// The install step nginx.conf asks for: nginx starts before drcon
	// wrote the file, and an include of a missing file is an error.
	return os.WriteFile(s.Destination, nil, 0o644)
}

func (s *Stack) writeRewritten(from, to string, edits []Edit) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("demo stack: %w", err)
	}
	out, err := applyEdits([]byte(s.Paths.Rewrite(string(b))), from, edits)
	if err != nil {
		return fmt.Errorf("demo stack: %w", err)
	}
	if err := os.WriteFile(to, out, 0o644); err != nil {
		return fmt.Errorf("demo stack: %w", err)
	}
	return nil
}

// startConsul starts a dev agent; when a port it was given free is taken
// by the time it binds (tests run in parallel), it tries new ones.
func (s *Stack) startConsul(ctx context.Context) error {
	p := &s.o.Ports
	for attempt := 1; ; attempt++ {
		args := []string{s.o.Binaries.Consul, "agent", "-dev", "-node", "drcon-demo",
			"-client", "127.0.0.1", "-bind", "127.0.0.1",
			"-http-port", strconv.Itoa(p.ConsulHTTP), "-dns-port", strconv.Itoa(p.ConsulDNS),
			"-server-port", strconv.Itoa(p.ConsulServer), "-serf-lan-port", strconv.Itoa(p.ConsulSerfLAN),
			"-serf-wan-port", strconv.Itoa(p.ConsulSerfWAN), "-grpc-port", strconv.Itoa(p.ConsulGRPC),
			// Every client here is one loopback address: the default limit
			// (200 connections) is too low for blocking queries; and the
			// fixed gRPC TLS port would collide with a user's agent.
			"-hcl", "limits { http_max_conns_per_client = 4096 }\nports { grpc_tls = -1 }"}
		proc, err := startProcess("consul", s.logPath("consul"), s.o.Keep, os.Environ(), args...)
		if err != nil {
			return err
		}
		s.consul = proc
		err = waitUntil(ctx, 60*time.Second, "consul to elect itself leader", proc, func() bool {
			return httpGet("http://"+s.Paths.ConsulAddr+"/v1/status/leader", func(b string) bool {
				return strings.Trim(strings.TrimSpace(b), `"`) != ""
			})
		})
		if err == nil || !proc.exited() || attempt == 3 || !s.pickedConsulPorts {
			return err
		}
		for _, port := range []*int{&p.ConsulHTTP, &p.ConsulDNS, &p.ConsulServer, &p.ConsulSerfLAN, &p.ConsulSerfWAN, &p.ConsulGRPC} {
			if *port, err = freePort(); err != nil {
				return err
			}
		}
		s.Paths.ConsulAddr = loopback(p.ConsulHTTP)
		if err := s.rewriteAgain(); err != nil {
			return err
		}
	}
}

// rewriteAgain writes the configuration again after a port changed.
func (s *Stack) rewriteAgain() error {
	return s.writeRewritten(filepath.Join(s.o.Example, "drcon.hcl"), s.Config, s.o.Edits)
}

func (s *Stack) startNginx(ctx context.Context) error {
	conf := filepath.Join(s.Paths.Nginx, "nginx.conf")
	proc, err := startProcess("nginx", s.logPath("nginx"), s.o.Keep, os.Environ(),
		s.o.Binaries.Nginx, "-p", s.Paths.Nginx+"/", "-c", conf, "-g", "daemon off;")
	if err != nil {
		return err
	}
	s.nginx = proc
	return waitUntil(ctx, 30*time.Second, "nginx to start", proc, func() bool {
		_, err := os.Stat(filepath.Join(s.Paths.Nginx, "nginx.pid"))
		return err == nil
	})
}

func (s *Stack) startDrcon(ctx context.Context) error {
	// The examples call nginx and haproxy by name, as root's PATH finds
	// them; a user's PATH may lack the sbin directories.
	path := filepath.Dir(s.o.Binaries.Nginx) + ":" + os.Getenv("PATH") + ":/usr/local/sbin:/usr/sbin:/sbin"
	env := append(os.Environ(), "PATH="+path)
	proc, err := startProcess("drcon", s.logPath("drcon"), s.o.Keep, env, s.o.Binaries.Drcon, "-config", s.Config)
	if err != nil {
		return err
	}
	s.drcon = proc
	return waitUntil(ctx, 60*time.Second, "drcon to be healthy (every job ran once)", proc, func() bool {
		return httpGet("http://"+s.Paths.StatusAddr+"/healthz", nil)
	})
}

// WaitProxy waits until the proxy (the stack's nginx, or one the caller
// started) accepts connections on port "80": nginx does once the rendered
// file it includes has a server.
func (s *Stack) WaitProxy(ctx context.Context) error {
	return waitUntil(ctx, 30*time.Second, "the proxy to listen on "+s.Paths.ProxyAddr, s.nginx, func() bool {
		c, err := net.DialTimeout("tcp", s.Paths.ProxyAddr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// Label is the value of ContainerLabel on the stack's containers.
func (s *Stack) Label() string { return s.o.Label }

// Logs is the directory of the programs' logs.
func (s *Stack) Logs() string { return filepath.Join(s.o.Dir, "logs") }

func (s *Stack) logPath(name string) string { return filepath.Join(s.Logs(), name+".log") }

// Close removes the stack's containers and network and stops drcon, nginx
// and Consul.
func (s *Stack) Close(ctx context.Context) error {
	var errs []error
	if s.o.Label != "" { // else Start refused to begin
		errs = append(errs, removeContainersAndNetwork(ctx, s.o.Label, s.Network))
	}
	for _, p := range []struct {
		proc *process
		sig  syscall.Signal
	}{{s.drcon, syscall.SIGTERM}, {s.nginx, syscall.SIGQUIT}, {s.consul, syscall.SIGTERM}} {
		if p.proc != nil {
			errs = append(errs, p.proc.stop(p.sig, 10*time.Second))
		}
	}
	return errors.Join(errs...)
}

// waitUntil polls cond until it holds, proc (if any) exits, ctx ends or
// timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, what string, proc *process, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return nil
		}
		if proc != nil && proc.exited() {
			return fmt.Errorf("waiting for %s: %w", what, proc.failure())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, context.Cause(ctx))
		case <-tick.C:
		}
	}
}

// httpGet reports whether url answers 200 (and, with body, a body it accepts).
func httpGet(url string, body func(string) bool) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	if body == nil {
		return true
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return err == nil && body(string(b))
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// freePort avoids the kernel's ephemeral ports (testenv.PickPort says why).
func freePort() (int, error) { return testenv.PickPort() }
