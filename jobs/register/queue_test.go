package register

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestQueueOrderAndExclusivity(t *testing.T) {
	q := newQueue()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var mu sync.Mutex
	busy := map[string]bool{}
	seen := map[string][]time.Time{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id, w, ok := q.next(ctx)
				if !ok {
					return
				}
				mu.Lock()
				if busy[id] {
					t.Errorf("container %s with two workers at once", id)
				}
				busy[id] = true
				seen[id] = append(seen[id], w.stopping)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				busy[id] = false
				mu.Unlock()
				q.done(id)
				for _, r := range w.rounds {
					r.finish(nil)
				}
			}
		}()
	}
	const containers, events = 20, 50
	r := newRound(containers)
	for i := range events {
		for c := range containers {
			w := &work{converge: true, stopping: time.Unix(int64(i), 0)}
			if i == events-1 {
				w.rounds = []*round{r}
			}
			q.push(string(rune('a'+c)), w)
		}
	}
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the work was not all done")
	}
	cancel()
	wg.Wait()
	for id, times := range seen {
		for i := 1; i < len(times); i++ {
			if !times[i].After(times[i-1]) {
				t.Errorf("container %s: work out of order: %v", id, times)
			}
		}
		if last := times[len(times)-1]; !last.Equal(time.Unix(events-1, 0)) {
			t.Errorf("container %s: last work %v, want the last event's", id, last)
		}
	}
}

func TestQueueLater(t *testing.T) {
	q := newQueue()
	defer q.close()
	q.later("a", time.Hour, &work{refresh: true})
	q.later("a", 10*time.Millisecond, &work{converge: true}) // sooner wins, and merges
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, w, ok := q.next(ctx)
	if !ok || id != "a" || !w.refresh || !w.converge {
		t.Fatalf("next = %q %+v %v", id, w, ok)
	}
	q.done("a")
}

func TestQueueClosed(t *testing.T) {
	q := newQueue()
	q.later("a", time.Millisecond, &work{converge: true})
	q.close()
	q.push("b", &work{converge: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if id, _, ok := q.next(ctx); ok {
		t.Fatalf("a closed queue handed out %q", id)
	}
}
