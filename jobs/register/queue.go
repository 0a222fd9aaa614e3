package register

import (
	"context"
	"sync"
	"time"
)

// queue holds the pending work of each container and hands it to a small
// pool of workers: one container is with at most one worker at a time, so
// its work is done in order, while different containers proceed in
// parallel. Pushing never blocks, so the Docker event reader never waits
// on Consul.
type queue struct {
	mu      sync.Mutex
	pending map[string]*work
	ready   []string // containers with pending work and no worker, oldest first
	busy    map[string]bool
	timers  map[string]*delayed
	closed  bool
	wake    chan struct{}
}

// delayed is work that waits for its time: a retry or a TTL refresh.
type delayed struct {
	t  *time.Timer
	at time.Time
	w  *work
}

func newQueue() *queue {
	return &queue{
		pending: map[string]*work{},
		busy:    map[string]bool{},
		timers:  map[string]*delayed{},
		wake:    make(chan struct{}, 1),
	}
}

// push adds work for container id, merging it with work already pending.
func (q *queue) push(id string, w *work) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if p, ok := q.pending[id]; ok {
		p.merge(w)
		return
	}
	q.pending[id] = w
	if !q.busy[id] {
		q.ready = append(q.ready, id)
		q.signal()
	}
}

// later pushes w for id after d, or sooner if work for id is already
// waiting for an earlier time.
func (q *queue) later(id string, d time.Duration, w *work) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	at := time.Now().Add(d)
	if dl, ok := q.timers[id]; ok {
		dl.w.merge(w)
		if at.Before(dl.at) {
			dl.at = at
			dl.t.Reset(d)
		}
		return
	}
	dl := &delayed{at: at, w: w}
	dl.t = time.AfterFunc(d, func() { q.fire(id, dl) })
	q.timers[id] = dl
}

func (q *queue) fire(id string, dl *delayed) {
	q.mu.Lock()
	if q.timers[id] != dl {
		q.mu.Unlock()
		return
	}
	delete(q.timers, id)
	q.mu.Unlock()
	q.push(id, dl.w)
}

// next waits for a container with pending work and takes that work; the
// caller must call done(id) when it has finished. ok is false once ctx ends.
func (q *queue) next(ctx context.Context) (id string, w *work, ok bool) {
	for {
		q.mu.Lock()
		if len(q.ready) > 0 {
			id = q.ready[0]
			q.ready = q.ready[1:]
			w = q.pending[id]
			delete(q.pending, id)
			q.busy[id] = true
			if len(q.ready) > 0 {
				// Pass the wake-up on: pushes signal only once.
				q.signal()
			}
			q.mu.Unlock()
			return id, w, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-ctx.Done():
			return "", nil, false
		}
	}
}

// done releases container id; work pushed meanwhile becomes ready.
func (q *queue) done(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.busy, id)
	if _, ok := q.pending[id]; ok {
		q.ready = append(q.ready, id)
		q.signal()
	}
}

// close stops the timers and drops later pushes.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, dl := range q.timers {
		dl.t.Stop()
	}
	clear(q.timers)
}

func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
