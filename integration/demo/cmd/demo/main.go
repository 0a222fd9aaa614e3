// Command demo is `make demo`: it runs the DR CoN stack of examples/drcon.hcl
// on this machine (a Consul dev agent, an nginx of its own and drcon, on
// loopback ports beside a user's own), scales the demo service 2 -> 5 -> 1
// -> 3 under a request loop through nginx, prints what the loop saw, and
// stops everything it started: at the end, on an error, and on Ctrl-C.
// With -keep (make demo KEEP=1) the stack stays up; -stop (make demo-stop)
// stops it.
//
// It expects what integration/scripts/setup.sh provides: a running dockerd,
// nginx, and Consul v1.14.11 in the cache.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
)

const (
	image   = "drcon-whoami:demo"
	label   = "demo" // value of demo.ContainerLabel on the demo's containers
	service = "whoami"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	drcon := fs.String("drcon", "bin/drcon", "the drcon binary to run")
	dir := fs.String("dir", filepath.Join(os.TempDir(), "drcon-demo"), "where the stack keeps its configuration and logs")
	keep := fs.Bool("keep", false, "leave the stack running at the end")
	stop := fs.Bool("stop", false, "stop a stack left running by -keep, and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	if *stop {
		if err := demo.StopKept(ctx, *dir); err != nil {
			fmt.Fprintln(stderr, "demo:", err)
			return 1
		}
		fmt.Fprintln(stdout, "demo: stack stopped, containers removed")
		return 0
	}
	if demo.Kept(*dir) {
		fmt.Fprintf(stderr, "demo: a demo stack kept in %s is still running; stop it first: make demo-stop\n", *dir)
		return 1
	}
	if err := os.RemoveAll(*dir); err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	st, err := start(ctx, *drcon, *dir, *keep, stdout)
	if err == nil {
		err = show(ctx, st, *keep, stdout)
		if err != nil || !*keep {
			if cerr := stopStack(st, *dir, err == nil || ctx.Err() != nil); cerr != nil {
				fmt.Fprintln(stderr, "demo: stopping the stack:", cerr)
				return 1
			}
		}
	}
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "demo: interrupted; everything it started is stopped")
		return 130
	default:
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
}

// start builds the demo service and starts the stack; it returns when nginx
// serves.
func start(ctx context.Context, drconBin, dir string, keep bool, out io.Writer) (*demo.Stack, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	bins := demo.Binaries{}
	if bins.Drcon, err = filepath.Abs(drconBin); err != nil {
		return nil, err
	}
	if bins.Consul, err = testenv.ConsulBinary(); err != nil {
		return nil, fmt.Errorf("%w (integration/scripts/setup.sh builds it)", err)
	}
	if bins.Nginx, err = testenv.NginxBinary(); err != nil {
		return nil, fmt.Errorf("%w (integration/scripts/setup.sh installs it)", err)
	}
	fmt.Fprintf(out, "demo: building the demo service %s (integration/whoami, FROM scratch)\n", image)
	if err := testenv.BuildImage(root, image, "./integration/whoami", demo.WhoamiDockerfile); err != nil {
		return nil, err
	}
	ports := availablePorts(demo.DemoPorts, out)
	fmt.Fprintln(out, "demo: starting Consul, nginx and drcon with examples/drcon.hcl")
	st, err := demo.Start(ctx, demo.Options{Dir: dir, Example: filepath.Join(root, "examples"),
		NginxConf: filepath.Join(root, "examples", "nginx.conf"), Binaries: bins, Ports: ports,
		Label: label, Keep: keep})
	if err != nil {
		return nil, err
	}
	if err := st.WaitProxy(ctx); err != nil {
		return nil, errors.Join(err, stopStack(st, dir, false))
	}
	return st, nil
}

// show runs the scenario on the stack and prints what it saw; with keep,
// it leaves the stack running and says how to use it.
func show(ctx context.Context, st *demo.Stack, keep bool, out io.Writer) error {
	p := st.Paths
	fmt.Fprintf(out, `
  consul  http://%s  (dev agent)
  nginx   http://%s  (virtual host %q)
  drcon   http://%s/v1/status  (%s: examples/drcon.hcl with these paths and ports)
  logs    %s

`, p.ConsulAddr, p.ProxyAddr, service, p.StatusAddr, st.Config, st.Logs())

	report, err := demo.Scenario{Image: image, Service: service, Drain: 2 * time.Second,
		Settle: time.Second, Out: out}.Run(ctx, st)
	if err != nil {
		return fmt.Errorf("%w (logs: %s)", err, st.Logs())
	}
	fmt.Fprintln(out)
	if err := report.Print(out); err != nil {
		return err
	}
	if !keep {
		return nil
	}
	if err := st.Keep(); err != nil {
		return err
	}
	fmt.Fprintf(out, `
The stack keeps running (KEEP=1). Try:
  curl -H 'Host: %[1]s' http://%[2]s/
  docker run -d --rm --network %[10]s -p 127.0.0.1::80 -l %[3]s=%[4]s -l SERVICE_NAME=%[1]s -l SERVICE_TAGS=http %[5]s
  docker ps --filter label=%[3]s=%[4]s
  curl -s http://%[6]s/v1/status
  curl -s http://%[7]s/v1/health/service/%[1]s
Edit %[9]s and drcon renders it again; edit %[8]s, then reload it:
  curl -X POST http://%[6]s/v1/reload
Stop it with: make demo-stop
`, service, p.ProxyAddr, demo.ContainerLabel, label, image, p.StatusAddr, p.ConsulAddr, st.Config,
		filepath.Join(filepath.Dir(st.Config), "nginx.ctmpl"), st.Network)
	return nil
}

// stopStack stops everything the stack started and, with clean, removes
// its directory; otherwise the logs stay for an error to point at.
func stopStack(st *demo.Stack, dir string, clean bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := st.Close(ctx); err != nil {
		return err
	}
	if clean {
		return os.RemoveAll(dir)
	}
	return nil
}

// availablePorts keeps the demo's fixed ports that are free and picks free
// ones for the others, saying so.
func availablePorts(want demo.Ports, out io.Writer) demo.Ports {
	for _, p := range []*int{&want.ConsulHTTP, &want.ConsulDNS, &want.ConsulServer, &want.ConsulSerfLAN,
		&want.ConsulSerfWAN, &want.ConsulGRPC, &want.Proxy, &want.Status} {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *p))
		if err != nil {
			fmt.Fprintf(out, "demo: port %d is taken; using a free one instead\n", *p)
			*p = 0
			continue
		}
		l.Close()
	}
	return want
}

// repoRoot is the module's root: make runs the demo from it, but a user
// may run it from a subdirectory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the demo from the drcon repository (no go.mod above the working directory)")
		}
		dir = parent
	}
}
