package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/template/watch"
)

// Status is the document served at GET /v1/status.
type Status struct {
	Version      string            `json:"version"`
	Started      time.Time         `json:"started"`
	ConfigFiles  []string          `json:"config_files"`
	Healthy      bool              `json:"healthy"`
	LastReload   *ReloadStatus     `json:"last_reload,omitempty"`
	Jobs         []JobStatus       `json:"jobs"`
	Dependencies []DependencyState `json:"dependencies,omitempty"`
}

// JobStatus is a job's own status with the age of its dependencies' data.
type JobStatus struct {
	jobs.Status
	Dependencies []DependencyState `json:"dependencies,omitempty"`
}

// DependencyState is one watched dependency as status shows it.
type DependencyState struct {
	Name        string        `json:"name"`
	Subscribers int           `json:"subscribers,omitempty"`
	Age         time.Duration `json:"age_ns"`
	Failing     bool          `json:"failing,omitempty"`
	LastError   string        `json:"last_error,omitempty"`
}

// Snapshot gathers the status of the agent and every job.
func (a *Agent) Snapshot() Status {
	a.mu.RLock()
	cfg, b, last := a.cfg, a.backend, a.lastReload
	list := make([]*running, 0, len(a.jobs))
	for _, r := range a.jobs {
		list = append(list, r)
	}
	a.mu.RUnlock()

	deps := map[string]DependencyState{}
	var all []DependencyState
	if b != nil {
		for _, d := range b.pool.Status() {
			s := dependencyState(d)
			deps[s.Name] = s
			all = append(all, s)
		}
	}
	st := Status{Version: a.opts.Version, Started: a.started, ConfigFiles: cfg.Files, LastReload: last,
		Healthy: true, Dependencies: all}
	for _, r := range list {
		js := JobStatus{Status: r.job.Status()}
		js.Name, js.Kind = r.spec.name, r.spec.kind
		select {
		case <-r.done:
			if r.err != nil {
				js.State, js.LastError = "failed", r.err.Error()
			} else {
				js.State = "stopped"
			}
		default:
		}
		for _, name := range js.Status.Dependencies {
			d, ok := deps[name]
			if !ok {
				d = DependencyState{Name: name}
			}
			js.Dependencies = append(js.Dependencies, d)
		}
		if !js.Ready {
			st.Healthy = false
		}
		st.Jobs = append(st.Jobs, js)
	}
	slices.SortFunc(st.Jobs, func(x, y JobStatus) int {
		if x.Name < y.Name {
			return -1
		}
		if x.Name > y.Name {
			return 1
		}
		return 0
	})
	return st
}

func dependencyState(d watch.DependencyStatus) DependencyState {
	return DependencyState{Name: d.Dependency, Subscribers: d.Subscribers, Age: d.Age,
		Failing: d.Failing, LastError: d.LastError}
}

// statusServer serves /v1/status, /healthz, /metrics and POST /v1/reload.
type statusServer struct {
	a       *Agent
	reloads chan chan ReloadStatus

	mu   sync.Mutex
	addr string
	srv  *http.Server
}

func newStatusServer(a *Agent) *statusServer {
	return &statusServer{a: a, reloads: make(chan chan ReloadStatus)}
}

// listen (re)starts the listener on addr; "" turns it off.
func (s *statusServer) listen(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr == s.addr && (s.srv != nil || addr == "") {
		return nil
	}
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
		s.srv = nil
	}
	s.addr = addr
	if addr == "" {
		return nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("status listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	mux.HandleFunc("POST /v1/reload", s.handleReload)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.a.registry, promhttp.HandlerOpts{}))
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv := s.srv
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.a.log.Error("status server", "err", err)
		}
	}()
	s.a.log.Info("status listening", "address", l.Addr().String())
	return nil
}

func (s *statusServer) close() {
	_ = s.listen("")
}

func (s *statusServer) handleStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.a.Snapshot())
}

func (s *statusServer) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.a.Snapshot()
	code := http.StatusOK
	var waiting []string
	for _, j := range st.Jobs {
		if !j.Ready {
			waiting = append(waiting, j.Name)
		}
	}
	if len(waiting) > 0 {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]any{"healthy": code == http.StatusOK, "waiting": waiting})
}

func (s *statusServer) handleReload(w http.ResponseWriter, r *http.Request) {
	reply := make(chan ReloadStatus, 1)
	select {
	case s.reloads <- reply:
	case <-r.Context().Done():
		return
	}
	select {
	case st := <-reply:
		code := http.StatusOK
		if st.Outcome == "failed" {
			code = http.StatusUnprocessableEntity
		}
		writeJSON(w, code, st)
	case <-r.Context().Done():
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
