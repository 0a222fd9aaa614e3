package testenv

import (
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

// CountingProxy sits between a client and Consul's HTTP API and counts what
// passes: every request, the blocking queries (those with index=) held open
// right now, and the response bytes.
type CountingProxy struct {
	Addr string

	mu       sync.Mutex
	requests int
	bytes    int64
	inFlight map[string]int // blocking queries open now, by path + query without index/wait
	paths    map[string]int // requests by path
}

// StartCountingProxy proxies a loopback port to target (host:port).
func StartCountingProxy(t testing.TB, target string) *CountingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CountingProxy{Addr: l.Addr().String(), inFlight: map[string]int{}, paths: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	rp.FlushInterval = -1
	// Blocking queries cut off when a client stops are not errors worth a log
	// line in the middle of benchmark output.
	rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		rp.ServeHTTP(cw, r)
		p.mu.Lock()
		p.bytes += cw.n
		if blocking {
			if p.inFlight[key]--; p.inFlight[key] == 0 {
				delete(p.inFlight, key)
			}
		}
		p.mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
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
func (p *CountingProxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests
}

// Bytes is the number of response bytes so far.
func (p *CountingProxy) Bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// Blocking is the number of blocking queries open now, and how many of them
// are distinct (same path and parameters but index and wait).
func (p *CountingProxy) Blocking() (open, distinct int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.inFlight {
		open += n
	}
	return open, len(p.inFlight)
}

// BlockingPaths lists the distinct blocking queries open now.
func (p *CountingProxy) BlockingPaths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for k := range p.inFlight {
		out = append(out, k)
	}
	return out
}

// PathCount is the number of requests to paths with the given prefix.
func (p *CountingProxy) PathCount(prefix string) int {
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
func (p *CountingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests, p.bytes = 0, 0
	p.paths = map[string]int{}
}
