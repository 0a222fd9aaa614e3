package render

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// answerFetcher answers blocking queries from data set by the test, for a
// real watch.Pool.
type answerFetcher struct {
	mu   sync.Mutex
	wake chan struct{}
	data map[dep.Dependency]struct {
		i uint64
		v any
	}
}

func (f *answerFetcher) set(d dep.Dependency, i uint64, v any) {
	f.mu.Lock()
	f.data[d] = struct {
		i uint64
		v any
	}{i, v}
	close(f.wake)
	f.wake = make(chan struct{})
	f.mu.Unlock()
}

func (f *answerFetcher) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	for {
		f.mu.Lock()
		e, wake := f.data[d], f.wake
		f.mu.Unlock()
		if q.WaitIndex == 0 || e.i > q.WaitIndex {
			return e.v, watch.ResponseMeta{LastIndex: e.i}, nil
		}
		select {
		case <-ctx.Done():
			return nil, watch.ResponseMeta{}, ctx.Err()
		case <-wake:
		}
	}
}

// A job whose executions keep failing still tells the pool it executed, so
// a deleted key's kept watcher that another job lets go of retires instead
// of waiting for it (a blocking query to Consul for ever).
func TestFailingJobLetsKeptWatchersRetire(t *testing.T) {
	x := dep.Dependency{Kind: dep.KindKVBlock, Name: "x"}
	n := dep.Dependency{Kind: dep.KindKVBlock, Name: "n"}
	f := &answerFetcher{wake: make(chan struct{}), data: map[dep.Dependency]struct {
		i uint64
		v any
	}{}}
	f.set(x, 1, dep.KVValue{Exists: true, Value: "one"})
	f.set(n, 1, dep.KVValue{Exists: true, Value: "abc"})
	p := watch.New(f, watch.Options{MinGap: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)

	a := p.Subscribe()
	a.Want([]dep.Dependency{x})
	eventually(t, "x", func() bool { _, ok := a.Recall(x); return ok })
	f.set(x, 2, dep.KVValue{}) // deleted: kept for key
	eventually(t, "x's delete answered", func() bool {
		for _, s := range p.Status() {
			if s.Dependency == x.String() && s.LastIndex == 2 {
				return true
			}
		}
		return false
	})

	// A replacement job's subscription, prewarmed as the agent does on reload.
	b := p.Subscribe()
	b.Want([]dep.Dependency{n})
	eventually(t, "n", func() bool { _, ok := b.Recall(n); return ok })
	j := mustNew(t, newConfig(t, "b", `{{ key "n" | parseInt }}`), b, Options{})
	startJob(t, j)
	eventually(t, "the job's failure", func() bool { return j.Status().LastError != "" })

	a.Want(nil) // the other job drops x
	// Read before the change: the job may fail again before f.set returns.
	first := j.Status().LastErrorAt
	f.set(n, 3, dep.KVValue{Exists: true, Value: "def"})
	eventually(t, "the job's second failure", func() bool { return j.Status().LastErrorAt.After(first) })
	eventually(t, "the pool to watch n alone: x retires for a job that executed twice", func() bool {
		return p.Stats().Dependencies == 1
	})
}
