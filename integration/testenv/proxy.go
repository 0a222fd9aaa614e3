package testenv

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy sits between a client and Consul's HTTP API on a loopback port. It
// counts what it forwards: every request, the blocking queries (those with
// index=) held open right now, and the response bytes. A test can cut it, as
// a network partition would cut the client off while Consul keeps its state,
// and make it refuse some requests, as a Consul that takes some writes and
// not others.
type Proxy struct {
	Addr string

	mu       sync.Mutex
	requests int
	bytes    int64
	inFlight map[string]int // blocking queries open now, by path + query without index/wait
	paths    map[string]int // requests by path
	cut      bool
	// mended ends when the proxy is cut, and with it the requests
	// forwarded since the proxy was last mended.
	mended context.Context
	end    context.CancelFunc
	refuse func(*http.Request) bool
}

// StartProxy proxies a loopback port to target (host:port).
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: l.Addr().String(), inFlight: map[string]int{}, paths: map[string]int{}}
	p.mended, p.end = context.WithCancel(context.Background())
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.FlushInterval = -1
	// Blocking queries ended by a cut or by a client that stops are not
	// errors worth a log line in the middle of test or benchmark output.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(rp, w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

// serve forwards r to Consul and counts it, unless the proxy is cut or
// refuses it.
func (p *Proxy) serve(rp *httputil.ReverseProxy, w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	cut, mended, refuse := p.cut, p.mended, p.refuse
	p.mu.Unlock()
	if cut {
		// Drop the connection unanswered: the client sees a transport
		// error, as through a partition.
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	if refuse != nil && refuse(r) {
		http.Error(w, "refused by the test", http.StatusInternalServerError)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(mended, cancel)()

	key := queryKey(r.URL)
	blocking := r.URL.Query().Has("index")
	p.mu.Lock()
	p.requests++
	p.paths[r.URL.Path]++
	if blocking {
		p.inFlight[key]++
	}
	p.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	rp.ServeHTTP(cw, r.WithContext(ctx))
	p.mu.Lock()
	p.bytes += cw.n
	if blocking {
		if p.inFlight[key]--; p.inFlight[key] == 0 {
			delete(p.inFlight, key)
		}
	}
	p.mu.Unlock()
}

// Cut closes the connection of every new request unanswered and ends the
// requests in flight, blocking queries included, until Mend.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.end()
}

// Mend forwards requests again after a Cut.
func (p *Proxy) Mend() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.cut = false
		p.mended, p.end = context.WithCancel(context.Background())
	}
}

// Refuse answers 500 to the requests match accepts instead of forwarding
// them.
func (p *Proxy) Refuse(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = match
}

func queryKey(u *url.URL) string {
	q := u.Query()
	q.Del("index")
	q.Del("wait")
	q.Del("stale")
	q.Del("consistent")
	return u.Path + "?" + q.Encode()
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Requests is the number of requests so far.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Bytes is the number of response bytes so far.
func (p *Proxy) Bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// Blocking is the number of blocking queries open now, and how many of them
// are distinct (same path and parameters but index and wait).
func (p *Proxy) Blocking() (open, distinct int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.inFlight {
		open += n
	}
	return open, len(p.inFlight)
}

// BlockingPaths lists the distinct blocking queries open now.
func (p *Proxy) BlockingPaths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.inFlight {
		out = append(out, k)
	}
	return out
}

// PathCount is the number of requests to paths with the given prefix.
func (p *Proxy) PathCount(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for path, c := range p.paths {
		if strings.HasPrefix(path, prefix) {
			n += c
		}
	}
	return n
}

// Reset zeroes the request and byte counters (not the open queries).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests, p.bytes = 0, 0
	p.paths = map[string]int{}
}
