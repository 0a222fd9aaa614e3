package watch_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// switchProxy forwards to one of two Consul agents, switchable at any time
// without breaking a connection, and logs each query's index and the index
// of its answer.
type switchProxy struct {
	target atomic.Pointer[string]
	mu     sync.Mutex
	log    []exchange
}

type exchange struct{ asked, answered uint64 }

func (s *switchProxy) handler() http.Handler {
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: "http", Host: *s.target.Load()})
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		rp.ServeHTTP(rec, r)
		asked, _ := strconv.ParseUint(r.URL.Query().Get("index"), 10, 64)
		answered, _ := strconv.ParseUint(rec.Header().Get("X-Consul-Index"), 10, 64)
		s.mu.Lock()
		s.log = append(s.log, exchange{asked, answered})
		s.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

// TestBackwardsIndexResets: the agent behind the address changes to one
// with a shorter history, without any error. Its answer to our old index
// comes back with a lower index once the wait runs out; the pool then asks
// afresh and delivers the new agent's data.
func TestBackwardsIndexResets(t *testing.T) {
	long, short := startConsul(t), startConsul(t)
	for i := range 40 {
		long.PutKV("filler", strconv.Itoa(i))
	}
	long.PutKV("a", "long")
	short.PutKV("a", "short")

	sp := &switchProxy{}
	sp.target.Store(&long.Addr)
	srv := httptest.NewServer(sp.handler())
	t.Cleanup(srv.Close)
	pool := startPool(t, srv.Listener.Addr().String(), watch.Options{BlockQueryWait: time.Second})
	s := pool.Subscribe()
	s.Want([]dep.Dependency{kv("a")})
	waitKV(t, s, kv("a"), "long")

	sp.target.Store(&short.Addr)
	waitKV(t, s, kv("a"), "short")

	sp.mu.Lock()
	defer sp.mu.Unlock()
	rewound := false
	for i := 1; i < len(sp.log); i++ {
		prev := sp.log[i-1]
		if prev.asked > 0 && prev.answered < prev.asked {
			rewound = sp.log[i].asked == 0
			break
		}
	}
	if !rewound {
		t.Fatalf("no backwards answer followed by a fresh query: %+v", sp.log)
	}
	if st := pool.Status()[0]; st.Failures != 0 || st.LastError != "" {
		t.Fatalf("a backwards index is not a failure: %+v", st)
	}
}
