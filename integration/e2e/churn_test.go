package e2e

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
)

// TestChurn holds the DR CoN promise, that no request through nginx fails
// while containers come and go, under churn harder than the demo's: a
// tight loop of several clients while the service scales 1 -> 6 -> 1 with
// `docker stop` of all but one at once, `docker kill` mixed with starts,
// `docker restart` of each container in turn, and `docker pause`; then
// with an instance that is slow to listen after it starts. After each,
// nginx's file names exactly the running containers.
func TestChurn(t *testing.T) {
	st := startStack(t, ".", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := st.WaitProxy(ctx); err != nil {
		t.Fatal(err)
	}
	ch := &churn{t: t, st: st, image: testenv.BuildWhoami(t)}
	base := ch.run(ctx, 1)
	waitServes(t, st, "whoami", "/", base[0].Host())
	// nginx's workers of the configuration before, which had no whoami,
	// take connections for a moment after the reload that added it.
	ok := 0
	testenv.WaitFor(t, 30*time.Second, "100 requests in a row served", func() bool {
		if code, _ := get(st.Paths.ProxyAddr, "whoami", "/"); code != http.StatusOK {
			ok = 0
		}
		ok++
		return ok >= 100
	})

	t.Run("scale, stop, kill, restart, pause", func(t *testing.T) {
		ch.t = t
		ch.underLoad(ctx, func() {
			for range 3 {
				ch.docker(ctx, append([]string{"stop"}, ids(ch.run(ctx, 5))...)...)
			}
			live := ch.run(ctx, 2)
			for range 4 {
				live = append(live, ch.run(ctx, 1)...)
				ch.docker(ctx, "kill", live[0].ID)
				live = live[1:]
			}
			for _, c := range live {
				ch.docker(ctx, "restart", c.ID)
			}
			for _, c := range live {
				ch.docker(ctx, "pause", c.ID)
				ch.docker(ctx, "unpause", c.ID)
			}
			ch.docker(ctx, append([]string{"stop"}, ids(live)...)...)
		})
	})

	// An instance registered when its container starts, before it listens,
	// and no check to say when it does: nginx meets a refused connection
	// and retries on the other instance. When that one is killed once the
	// new one listens, nginx must send the new one the requests: its
	// default (max_fails=1, fail_timeout=10s) kept it out for 10 s after
	// its first failure, and nginx answered 502 until drcon's change
	// reloaded it.
	t.Run("slow to listen, then the other killed", func(t *testing.T) {
		ch.t = t
		slow := "drcon-slowstart:test"
		if err := testenv.BuildImage(testenv.RepoRoot(t), slow, "./integration/e2e/testdata/slowstart",
			"FROM "+ch.image+"\nCOPY app /slowstart\nENTRYPOINT [\"/slowstart\"]\n"); err != nil {
			t.Fatal(err)
		}
		ch.underLoad(ctx, func() {
			late, err := st.Run(ctx, slow, "--rm", "-p", "127.0.0.1::80", "-l", "SERVICE_NAME=whoami",
				"-l", "SERVICE_TAGS=http", "-e", "LISTEN_DELAY=2s")
			if err != nil {
				t.Fatal(err)
			}
			port := ch.port(ctx, late)
			testenv.WaitFor(t, 30*time.Second, "nginx to have the slow instance", func() bool {
				return slices.Contains(ch.upstreams(), port)
			})
			testenv.WaitFor(t, 30*time.Second, "the slow instance to listen", func() bool {
				code, body := get("127.0.0.1:"+port, "whoami", "/")
				return code == http.StatusOK && body == late.Host()
			})
			ch.docker(ctx, "kill", base[0].ID)
			base = nil
		})
	})
}

// churn drives containers of the demo service on a stack under a request
// loop through nginx.
type churn struct {
	t     *testing.T
	st    *demo.Stack
	image string
}

// run starts n containers of the service at once. They are not --rm: the
// docker daemon's auto-removal of a stopping container races `docker
// restart` ("marked for removal"); the stack's teardown removes them.
func (ch *churn) run(ctx context.Context, n int) []demo.Container {
	ch.t.Helper()
	out := make([]demo.Container, n)
	g, gctx := errgroup.WithContext(ctx)
	for i := range n {
		g.Go(func() error {
			var err error
			out[i], err = ch.st.Run(gctx, ch.image, "-p", "127.0.0.1::80", "-l", "SERVICE_NAME=whoami",
				"-l", "SERVICE_TAGS=http", "-e", "DRAIN=1s")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		ch.t.Fatal(err)
	}
	return out
}

func (ch *churn) docker(ctx context.Context, args ...string) {
	ch.t.Helper()
	if _, err := demo.Docker(ctx, args...); err != nil {
		ch.t.Fatal(err)
	}
}

// port is the loopback port a container publishes its port 80 on.
func (ch *churn) port(ctx context.Context, c demo.Container) string {
	ch.t.Helper()
	out, err := demo.Docker(ctx, "port", c.ID, "80")
	if err != nil {
		ch.t.Fatal(err)
	}
	return out[strings.LastIndex(out, ":")+1:]
}

var upstreamServer = regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:(\d+)[ ;]`)

// upstreams are the ports of the instances in nginx's file, the closed
// placeholder port left out.
func (ch *churn) upstreams() []string {
	b, err := os.ReadFile(ch.st.Destination)
	if err != nil {
		ch.t.Fatal(err)
	}
	var ports []string
	for _, m := range upstreamServer.FindAllStringSubmatch(string(b), -1) {
		if m[1] != "65535" {
			ports = append(ports, m[1])
		}
	}
	slices.Sort(ports)
	return ports
}

// running are the ports of the stack's running containers.
func (ch *churn) running(ctx context.Context) []string {
	out, err := demo.Docker(ctx, "ps", "-q", "--filter", "label="+demo.ContainerLabel+"="+ch.st.Label(),
		"--filter", "status=running")
	if err != nil {
		ch.t.Fatal(err)
	}
	var ports []string
	for _, id := range strings.Fields(out) {
		if p, err := demo.Docker(ctx, "port", id, "80"); err == nil {
			ports = append(ports, p[strings.LastIndex(p, ":")+1:])
		}
	}
	slices.Sort(ports)
	return ports
}

// underLoad runs steps while four clients send requests through nginx
// back to back, waits until nginx's file names exactly the running
// containers (no instance lingers), and fails the test for every request
// that failed.
func (ch *churn) underLoad(ctx context.Context, steps func()) {
	t := ch.t
	t.Helper()
	rec := demo.NewRecorder()
	load := demo.Load{URL: "http://" + ch.st.Paths.ProxyAddr + "/", Host: "whoami", Workers: 4,
		Interval: time.Millisecond, MaxRequests: 1 << 30}
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = load.Run(lctx, rec)
	}()
	defer func() {
		stop()
		wg.Wait()
	}()
	steps()
	var running, listed []string
	testenv.WaitFor(t, 30*time.Second, "nginx's file to name the running containers", func() bool {
		running, listed = ch.running(ctx), ch.upstreams()
		return slices.Equal(running, listed)
	})
	// Requests sent after the last change, through the nginx it reloaded.
	for n := len(rec.Results()) + 100; len(rec.Results()) < n; {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	wg.Wait()
	failed := map[string]int{}
	results := rec.Results()
	var first, last time.Time
	for _, r := range results {
		if r.Err != "" {
			failed[r.Err]++
			if first.IsZero() {
				first = r.Sent
			}
			last = r.Sent
		}
	}
	t.Logf("%d requests, %d backends served, failures %v; running %v", len(results), rec.Backends(), failed, running)
	if len(failed) > 0 {
		t.Logf("failures sent from %s to %s after the loop began", first.Sub(results[0].Sent), last.Sub(results[0].Sent))
	}
	if len(failed) > 0 {
		t.Errorf("requests failed: %v", failed)
	}
}

func ids(cs []demo.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}
