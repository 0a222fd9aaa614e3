package consul_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// A query that Consul refuses with 429 for its per-client connection limit
// is reported as watch.ErrConnectionLimit, which the pool explains. (Over
// the limit Consul also closes some connections without an answer; those
// are plain transport errors.)
func TestConnectionLimitIsRecognised(t *testing.T) {
	c := testenv.StartConsul(t, testenv.WithConnLimit(4))
	c.PutKV("k", "v")
	f := consul.New(c.Client(), consul.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	errs := make(chan error, 64)
	// Blocking queries hold connections; the ones over the limit fail and
	// try again.
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, _, err := f.Fetch(ctx, dep.Dependency{Kind: dep.KindKV, Name: "k"},
					watch.QueryOptions{WaitIndex: 1 << 40, WaitTime: 30 * time.Second})
				if err == nil || ctx.Err() != nil {
					continue
				}
				select {
				case errs <- err:
				default:
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-errs:
			var se api.StatusError
			refused := errors.As(err, &se) && se.Code == http.StatusTooManyRequests
			if refused != errors.Is(err, watch.ErrConnectionLimit) {
				t.Fatalf("429 and ErrConnectionLimit disagree: %v", err)
			}
			if refused {
				return
			}
		case <-deadline:
			t.Fatal("Consul never answered 429")
		}
	}
}
