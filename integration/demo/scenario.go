package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// Scenario is the DR CoN demonstration: two instances of the demo service,
// then, with requests flowing through nginx all along, 2 -> 5 with
// `docker run`, 5 -> 3 with `docker stop` (the stopped ones drain), 3 -> 1
// with `docker kill`, and 1 -> 3 with `docker run`.
type Scenario struct {
	Image   string
	Service string        // SERVICE_NAME, and the virtual host requests ask for
	Drain   time.Duration // how long a stopped container keeps serving
	// Settle is how long traffic flows after each step before the next.
	Settle time.Duration
	Out    io.Writer // the live log; nil discards it
}

// The phases of the scenario, in order.
const (
	PhaseSteady  = "2 running"
	PhaseUp      = "docker run 2 -> 5"
	PhaseStop    = "docker stop 5 -> 3"
	PhaseKill    = "docker kill 3 -> 1"
	PhaseUpAgain = "docker run 1 -> 3"
)

// Report is what the scenario saw.
type Report struct {
	Requests, Failures int
	Backends           int // distinct containers that served requests
	Phases             []PhaseReport
	Started            []Started // the containers started under load
}

// PhaseReport counts the requests sent during one phase.
type PhaseReport struct {
	Name               string
	Requests, Failures int
	Failed             []string // the first few failures, for diagnosis
}

// Started is a container started under load.
type Started struct {
	Host, Phase string
	// Propagation is from `docker run` returning to the container's first
	// answer through nginx; 0 when that came first.
	Propagation time.Duration
}

const (
	serveTimeout = 30 * time.Second // for a new container to serve through nginx
	maxRequests  = 30000            // bounds the request loop whatever happens
	keptFailures = 5
)

// Run plays the scenario on a stack and reports what the request loop saw.
// The containers it starts carry the stack's label; the stack removes them.
func (sc Scenario) Run(ctx context.Context, st *Stack) (*Report, error) {
	out := sc.Out
	if out == nil {
		out = io.Discard
	}
	t0 := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(out, "%6.2fs  %s\n", time.Since(t0).Seconds(), fmt.Sprintf(format, args...))
	}
	runArgs := []string{"--rm", "-p", "127.0.0.1::80", "-l", "SERVICE_NAME=" + sc.Service,
		"-l", "SERVICE_TAGS=http", "-e", "DRAIN=" + sc.Drain.String()}
	load := Load{URL: "http://" + st.Paths.ProxyAddr + "/", Host: sc.Service, Workers: 2,
		Interval: 10 * time.Millisecond, MaxRequests: maxRequests}

	initial, err := sc.startInitial(ctx, st, load, runArgs, logf)
	if err != nil {
		return nil, err
	}

	rec := NewRecorder()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	g, _ := errgroup.WithContext(loadCtx)
	g.Go(func() error { return load.Run(loadCtx, rec) })

	var phases []phaseMark
	mark := func(name string) {
		phases = append(phases, phaseMark{name, time.Now()})
		logf("-- %s", name)
	}
	pause := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(d):
			return nil
		}
	}
	var started []Started
	scaleUp := func(phase string, n int) ([]Container, error) {
		var cs []Container
		for range n {
			c, err := st.Run(ctx, sc.Image, runArgs...)
			if err != nil {
				return nil, err
			}
			logf("docker run returned %s", c.Host())
			cs = append(cs, c)
		}
		for _, c := range cs {
			wctx, cancel := context.WithTimeout(ctx, serveTimeout)
			first, err := rec.WaitFirst(wctx, c.Host())
			cancel()
			if err != nil {
				return nil, err
			}
			d := max(0, first.Sub(c.Returned))
			started = append(started, Started{Host: c.Host(), Phase: phase, Propagation: d})
			logf("%s served its first request through nginx, %d ms after docker run returned", c.Host(), d.Milliseconds())
		}
		return cs, pause(sc.Settle)
	}

	mark(PhaseSteady)
	if err := pause(sc.Settle); err != nil {
		return nil, err
	}
	mark(PhaseUp)
	up, err := scaleUp(PhaseUp, 3)
	if err != nil {
		return nil, err
	}

	mark(PhaseStop)
	logf("docker stop %s: they drain for %s while nginx drops them", hosts(initial), sc.Drain)
	begun := time.Now()
	if _, err := Docker(ctx, append([]string{"stop"}, ids(initial)...)...); err != nil {
		return nil, err
	}
	logf("docker stop returned after %.1fs; failed requests so far: %d", time.Since(begun).Seconds(), rec.Failures())
	if err := pause(sc.Settle); err != nil {
		return nil, err
	}

	mark(PhaseKill)
	killed := up[:2]
	if _, err := Docker(ctx, append([]string{"kill"}, ids(killed)...)...); err != nil {
		return nil, err
	}
	logf("docker kill %s: gone at once; nginx retries their requests on %s", hosts(killed), up[2].Host())
	if err := pause(2 * sc.Settle); err != nil {
		return nil, err
	}
	logf("failed requests so far: %d", rec.Failures())

	mark(PhaseUpAgain)
	if _, err := scaleUp(PhaseUpAgain, 2); err != nil {
		return nil, err
	}
	stopLoad()
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return report(rec, phases, started), nil
}

// startInitial starts the first two containers and waits until both serve
// through nginx, with a probe of its own: the scenario's count starts
// once the service is up.
func (sc Scenario) startInitial(ctx context.Context, st *Stack, load Load, runArgs []string,
	logf func(string, ...any)) ([]Container, error) {
	probe := NewRecorder()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	g, _ := errgroup.WithContext(pctx)
	g.Go(func() error { return load.Run(pctx, probe) })
	var cs []Container
	for range 2 {
		c, err := st.Run(ctx, sc.Image, runArgs...)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		wctx, cancel := context.WithTimeout(ctx, serveTimeout)
		_, err := probe.WaitFirst(wctx, c.Host())
		cancel()
		if err != nil {
			return nil, err
		}
	}
	logf("%s serve through nginx; starting the request loop", hosts(cs))
	stop()
	return cs, g.Wait()
}

type phaseMark struct {
	name  string
	start time.Time
}

// report attributes each request to the phase it was sent in.
func report(rec *Recorder, phases []phaseMark, started []Started) *Report {
	r := &Report{Backends: rec.Backends(), Started: started}
	for _, p := range phases {
		r.Phases = append(r.Phases, PhaseReport{Name: p.name})
	}
	for _, res := range rec.Results() {
		i := len(phases) - 1
		for i > 0 && res.Sent.Before(phases[i].start) {
			i--
		}
		ph := &r.Phases[i]
		r.Requests++
		ph.Requests++
		if res.Err != "" {
			r.Failures++
			ph.Failures++
			if len(ph.Failed) < keptFailures {
				ph.Failed = append(ph.Failed, res.Err)
			}
		}
	}
	return r
}

// Phase returns the report of the named phase (zero if there is none).
func (r *Report) Phase(name string) PhaseReport {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return PhaseReport{}
}

func ids(cs []Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func hosts(cs []Container) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Host())
	}
	return strings.Join(out, " ")
}
