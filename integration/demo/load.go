package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// Load is a bounded request loop through the proxy: Workers clients, each
// sending a request, then pausing Interval, until MaxRequests were sent in
// all or the context ends.
type Load struct {
	URL         string // http://proxy/
	Host        string // Host header: the service's virtual host
	Workers     int
	Interval    time.Duration
	MaxRequests int
	Timeout     time.Duration // of one request; 0 means 5s
}

// Result is one request's outcome.
type Result struct {
	Sent, Done time.Time
	Backend    string // the hostname the demo service answered with
	Err        string // why the request failed; "" when it was served
}

// Run sends the requests and records them in rec. It returns when the
// context ends or the requests are all sent.
func (l Load) Run(ctx context.Context, rec *Recorder) error {
	// A connection per request: each request meets the configuration nginx
	// has at that moment, as a new client would, rather than a worker that
	// an earlier reload told to finish its connections.
	timeout := l.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	sent := 0
	take := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if sent >= l.MaxRequests {
			return false
		}
		sent++
		return true
	}
	g, ctx := errgroup.WithContext(ctx)
	for range max(l.Workers, 1) {
		g.Go(func() error {
			for take() {
				res := l.once(ctx, client)
				if ctx.Err() != nil {
					return nil // cut short by the end, not a failure
				}
				rec.add(res)
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(l.Interval):
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func (l Load) once(ctx context.Context, client *http.Client) (r Result) {
	r.Sent = time.Now()
	defer func() { r.Done = time.Now() }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.URL, nil)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	req.Host = l.Host
	resp, err := client.Do(req)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	switch {
	case err != nil:
		r.Err = fmt.Sprintf("read the answer: %v", err)
	case resp.StatusCode != http.StatusOK:
		r.Err = resp.Status
	default:
		r.Backend = strings.TrimSpace(string(body))
	}
	return r
}

// Recorder keeps every request's result and when each backend first
// served one.
type Recorder struct {
	mu      sync.Mutex
	results []Result
	first   map[string]time.Time
	// fresh is closed, and replaced, whenever a backend serves its first
	// request: a broadcast to WaitFirst.
	fresh chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{first: map[string]time.Time{}, fresh: make(chan struct{})}
}

func (r *Recorder) add(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
	if res.Err != "" {
		return
	}
	if _, ok := r.first[res.Backend]; !ok {
		r.first[res.Backend] = res.Done
		close(r.fresh)
		r.fresh = make(chan struct{})
	}
}

// WaitFirst waits until backend served a request and returns when its
// answer arrived.
func (r *Recorder) WaitFirst(ctx context.Context, backend string) (time.Time, error) {
	for {
		r.mu.Lock()
		at, ok := r.first[backend]
		fresh := r.fresh
		r.mu.Unlock()
		if ok {
			return at, nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("waiting for %s to serve a request: %w", backend, context.Cause(ctx))
		case <-fresh:
		}
	}
}

// Results returns a copy of the results so far, in the order they ended.
func (r *Recorder) Results() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Result(nil), r.results...)
}

// Backends is the number of distinct backends that served a request.
func (r *Recorder) Backends() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.first)
}

// Failures is the number of failed requests so far.
func (r *Recorder) Failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, res := range r.results {
		if res.Err != "" {
			n++
		}
	}
	return n
}
