package watch_test

import (
	"context"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/snapshot"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// startPool runs a pool over Consul at addr until the test ends.
func startPool(t *testing.T, addr string, o watch.Options) *watch.Pool {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = addr
	cfg.Transport.MaxIdleConnsPerHost = 64
	cl, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := watch.New(consul.New(cl, consul.Options{}), o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		cfg.Transport.CloseIdleConnections()
	})
	return p
}

// waitKV waits until s recalls key d with value v.
func waitKV(t *testing.T, s *watch.Subscription, d dep.Dependency, v string) {
	t.Helper()
	testenv.WaitFor(t, 30*time.Second, d.String()+" = "+v, func() bool {
		got, ok := s.Recall(d)
		return ok && got == dep.KVValue{Exists: true, Value: v}
	})
}

// drain consumes a pending signal, and reports whether there was one.
func drain(s *watch.Subscription) bool {
	select {
	case <-s.Changed():
		return true
	default:
		return false
	}
}

func kv(name string) dep.Dependency { return dep.Dependency{Kind: dep.KindKV, Name: name} }

// startConsul starts a dev agent whose gRPC-TLS port is disabled: a dev
// agent takes the fixed port 8503 for it otherwise, so two agents on one
// machine (this test's two, or another package's running in parallel)
// collide and one fails to start.
func startConsul(t testing.TB) *testenv.Consul {
	t.Helper()
	return testenv.StartConsul(t)
}

// source is the contract of a template job's data source (jobs/render):
// the pool's subscriptions and snapshots must both satisfy it exactly.
type source interface {
	Want(ds []dep.Dependency)
	Changed() <-chan struct{}
	Recall(d dep.Dependency) (any, bool)
}

var (
	_ source = (*watch.Subscription)(nil)
	_ source = (*snapshot.View)(nil)
)
