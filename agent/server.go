package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// statusServer serves GET /v1/status, GET /healthz, GET /metrics and
// POST /v1/reload on status { address }. Only the supervisor's goroutine
// calls its methods; the handlers reach the agent through its lock and the
// reloads channel.
type statusServer struct {
	a *Agent
	// reloads carries POST /v1/reload to the supervisor, which answers on
	// the channel it receives.
	reloads chan chan ReloadStatus
	// stopping is closed by the supervisor when the agent stops, so that a
	// reload asked for then is refused instead of waiting forever.
	stopping chan struct{}

	addr string
	srv  *http.Server
	done chan struct{} // closed when srv.Serve has returned
}

func newStatusServer(a *Agent) *statusServer {
	return &statusServer{a: a, reloads: make(chan chan ReloadStatus), stopping: make(chan struct{})}
}

// binding is a listener opened for a new status address before the
// configuration that asks for it is committed, so that an address that
// cannot be bound fails the reload instead of leaving no status at all.
type binding struct {
	addr string
	l    net.Listener // nil when the new address is "" (off)
}

// bind opens addr if it differs from the current address; nil means no
// change.
func (s *statusServer) bind(addr string) (*binding, error) {
	if addr == s.addr {
		return nil, nil
	}
	b := &binding{addr: addr}
	if addr == "" {
		return b, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status listener: %w", err)
	}
	b.l = l
	return b, nil
}

// serve moves the server to b: the old listener closes once its requests
// are answered, the new one starts serving. nil changes nothing.
func (s *statusServer) serve(b *binding) {
	if b == nil {
		return
	}
	s.shutdown()
	s.addr = b.addr
	if b.l == nil {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("POST /v1/reload", s.handleReload)
	mux.Handle("GET /metrics", s.a.registry)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(b.l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.a.log.Error("status server", "err", err)
		}
	}()
	s.srv, s.done = srv, done
	s.a.log.Info("status listening", "address", b.l.Addr().String())
}

// shutdown stops the current server, letting requests in flight finish
// for a moment.
func (s *statusServer) shutdown() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	cancel()
	<-s.done
	s.srv, s.done = nil, nil
}

func (s *statusServer) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.a.Status())
}

// handleHealth is 200 once every job has rendered or registered once, 503
// before and while the agent stops.
func (s *statusServer) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.a.Status()
	waiting := []string{}
	for _, j := range st.Jobs {
		if !j.Ready {
			waiting = append(waiting, j.Name)
		}
	}
	code := http.StatusOK
	if !st.Healthy {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"healthy": st.Healthy, "stopping": st.Stopping, "waiting": waiting})
}

// handleReload asks the supervisor for a reload and answers with its
// outcome: 200, or 422 when the new configuration was refused.
func (s *statusServer) handleReload(w http.ResponseWriter, r *http.Request) {
	reply := make(chan ReloadStatus, 1)
	select {
	case s.reloads <- reply:
	case <-s.stopping:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the agent is stopping"})
		return
	case <-r.Context().Done():
		return
	}
	st := <-reply // the supervisor answers every request it takes
	code := http.StatusOK
	if st.Outcome == reloadFailed {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// abandon closes a listener that a failed start will not serve.
func (b *binding) abandon() {
	if b != nil && b.l != nil {
		_ = b.l.Close()
	}
}
