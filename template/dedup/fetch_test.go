package dedup

import (
	"cmp"
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// fakeConsul answers like Consul's blocking queries on synctest's clock.
type fakeConsul struct {
	mu    sync.Mutex
	wake  chan struct{}
	data  map[dep.Dependency]fakeEntry
	calls []watch.QueryOptions
	open  int
}

type fakeEntry struct {
	index uint64
	value any
}

func newFakeConsul() *fakeConsul {
	return &fakeConsul{wake: make(chan struct{}), data: map[dep.Dependency]fakeEntry{}}
}

func (f *fakeConsul) set(d dep.Dependency, index uint64, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.data[d] = fakeEntry{index, v}
	close(f.wake)
	f.wake = make(chan struct{})
}

func (f *fakeConsul) Fetch(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	f.mu.Lock()
	f.calls = append(f.calls, q)
	f.open++
	defer func() { f.mu.Lock(); f.open--; f.mu.Unlock() }()
	var timeout <-chan time.Time
	if q.WaitIndex > 0 {
		timeout = time.After(q.WaitTime)
	}
	for {
		e := f.data[d]
		if q.WaitIndex == 0 || e.index != q.WaitIndex {
			f.mu.Unlock()
			return e.value, watch.ResponseMeta{LastIndex: e.index}, nil
		}
		wake := f.wake
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, watch.ResponseMeta{}, ctx.Err()
		case <-timeout:
			return e.value, watch.ResponseMeta{LastIndex: e.index}, nil
		case <-wake:
			f.mu.Lock()
		}
	}
}

func (f *fakeConsul) stats() (calls []watch.QueryOptions, open int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]watch.QueryOptions(nil), f.calls...), f.open
}

type result struct {
	v   any
	m   watch.ResponseMeta
	err error
}

func fetchAsync(ctx context.Context, m *Member, d dep.Dependency, q watch.QueryOptions) <-chan result {
	ch := make(chan result, 1)
	go func() {
		v, meta, err := m.Fetch(ctx, d, q)
		ch <- result{v, meta, err}
	}()
	return ch
}

func published(seq uint64, entries map[dep.Dependency]Entry) *Data {
	for d, e := range entries {
		raw, _ := dep.EncodeValue(d.Kind, e.Value)
		e.Raw = raw
		entries[d] = e
	}
	return &Data{Session: "s", Holder: "leader", Seq: seq, Entries: entries}
}

var (
	keyA = dep.Dependency{Kind: dep.KindKV, Name: "a"}
	val1 = dep.KVValue{Exists: true, Value: "1"}
	val2 = dep.KVValue{Exists: true, Value: "2"}
	val3 = dep.KVValue{Exists: true, Value: "3"}
)

const wait = time.Minute

func TestFetchAnswersFromTheDataWithoutConsul(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		m := New(nil, f, Options{})
		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 7, Value: val1}}))
		v, meta, err := m.Fetch(t.Context(), keyA, watch.QueryOptions{})
		if err != nil || v != val1 || meta.LastIndex != 7 {
			t.Fatalf("%v %+v %v", v, meta, err)
		}
		// A blocking query waits for a publication with a new index for it.
		ch := fetchAsync(t.Context(), m, keyA, watch.QueryOptions{WaitIndex: 7, WaitTime: wait})
		synctest.Wait()
		m.srv.serve(published(2, map[dep.Dependency]Entry{keyA: {Index: 7, Value: val1}})) // another answer changed
		synctest.Wait()
		select {
		case r := <-ch:
			t.Fatalf("returned on a publication that did not change it: %+v", r)
		default:
		}
		m.srv.serve(published(3, map[dep.Dependency]Entry{keyA: {Index: 9, Value: val2}}))
		if r := <-ch; r.err != nil || r.v != val2 || r.m.LastIndex != 9 {
			t.Fatalf("%+v", r)
		}
		// ...or its wait time, like Consul.
		start := time.Now()
		if r := <-fetchAsync(t.Context(), m, keyA, watch.QueryOptions{WaitIndex: 9, WaitTime: wait}); r.v != val2 || r.m.LastIndex != 9 || time.Since(start) != wait {
			t.Fatalf("%+v after %s", r, time.Since(start))
		}
		if calls, _ := f.stats(); len(calls) != 0 {
			t.Fatalf("asked Consul %d times", len(calls))
		}
	})
}

func TestFetchGoesDirectAndRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		f.set(keyA, 5, val1)
		m := New(nil, f, Options{})
		if v, meta, err := m.Fetch(t.Context(), keyA, watch.QueryOptions{}); err != nil || v != val1 || meta.LastIndex != 5 {
			t.Fatalf("%v %+v %v", v, meta, err)
		}
		rec := m.rec.copy()[keyA]
		if string(rec.raw) != `{"Exists":true,"Value":"1"}` || rec.index != 5 || rec.key != "kv.get(a)" {
			t.Fatalf("recorded %+v", rec)
		}
		// Data that lacks the dependency does not answer it.
		other := dep.Dependency{Kind: dep.KindKV, Name: "b"}
		m.srv.serve(published(1, map[dep.Dependency]Entry{other: {Index: 1, Value: val2}}))
		if v, _, _ := m.Fetch(t.Context(), keyA, watch.QueryOptions{}); v != val1 {
			t.Fatalf("got %v", v)
		}
		// A dependency that is never shared is always asked of Consul.
		local := dep.Dependency{Kind: dep.KindCatalogNode}
		f.set(local, 3, (*dep.CatalogNode)(nil))
		if _, meta, _ := m.Fetch(t.Context(), local, watch.QueryOptions{}); meta.LastIndex != 3 {
			t.Fatalf("%+v", meta)
		}
		if _, ok := m.rec.copy()[local]; ok {
			t.Fatal("a host-specific answer was recorded for sharing")
		}
	})
}

func TestDataCancelsTheDirectQueryItAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		f.set(keyA, 5, val1)
		m := New(nil, f, Options{})
		ch := fetchAsync(t.Context(), m, keyA, watch.QueryOptions{WaitIndex: 5, WaitTime: wait})
		synctest.Wait()
		if _, open := f.stats(); open != 1 {
			t.Fatalf("%d queries open, want the blocking one", open)
		}
		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 6, Value: val2}}))
		r := <-ch
		if r.err != nil || r.v != val2 || r.m.LastIndex != 6 {
			t.Fatalf("%+v", r)
		}
		synctest.Wait()
		if _, open := f.stats(); open != 0 {
			t.Fatalf("%d queries still open in Consul", open)
		}
	})
}

func TestFollowerNeverGoesBackInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		f.set(keyA, 50, val2)
		m := New(nil, f, Options{})
		if v, _, _ := m.Fetch(t.Context(), keyA, watch.QueryOptions{}); v != val2 {
			t.Fatal(v)
		}
		// The leader's data is behind what this agent already saw.
		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 40, Value: val1}}))
		ch := fetchAsync(t.Context(), m, keyA, watch.QueryOptions{WaitIndex: 50, WaitTime: wait})
		synctest.Wait()
		select {
		case r := <-ch:
			t.Fatalf("answered from older data: %+v", r)
		default:
		}
		// Once the leader catches up, the direct query gives way.
		m.srv.serve(published(2, map[dep.Dependency]Entry{keyA: {Index: 55, Value: val3}}))
		if r := <-ch; r.v != val3 || r.m.LastIndex != 55 {
			t.Fatalf("%+v", r)
		}
		// Data with the same answer may answer at once, whatever its index.
		f.set(keyA, 70, val1)
		m.srv.serve(nil)
		if v, _, _ := m.Fetch(t.Context(), keyA, watch.QueryOptions{}); v != val1 {
			t.Fatal(v)
		}
		m.srv.serve(published(3, map[dep.Dependency]Entry{keyA: {Index: 60, Value: val1}}))
		if v, meta, _ := m.Fetch(t.Context(), keyA, watch.QueryOptions{WaitIndex: 70, WaitTime: wait}); v != val1 || meta.LastIndex != 60 {
			t.Fatalf("%v %+v", v, meta)
		}
	})
}

func TestDistrustedDataSendsWaitingQueriesToConsulAfresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		f.set(keyA, 3, val3) // Consul restarted: a lower index than the data's
		m := New(nil, f, Options{})
		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 9, Value: val1}}))
		if _, meta, _ := m.Fetch(t.Context(), keyA, watch.QueryOptions{}); meta.LastIndex != 9 {
			t.Fatal(meta)
		}
		ch := fetchAsync(t.Context(), m, keyA, watch.QueryOptions{WaitIndex: 9, WaitTime: wait})
		synctest.Wait()
		m.srv.serve(nil)
		r := <-ch
		if r.v != val3 || r.m.LastIndex != 3 {
			t.Fatalf("%+v", r)
		}
		calls, _ := f.stats()
		if len(calls) != 1 || calls[0].WaitIndex != 0 {
			t.Fatalf("queries %+v: the first direct query after the data must not wait on the data's index", calls)
		}
	})
}

// TestPoolOverMember runs the watcher pool on a member: switching between
// Consul and the data with equal answers never signals a change, and a
// change in the data signals once.
func TestPoolOverMember(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		f.set(keyA, 50, val1)
		m := New(nil, f, Options{})
		p := watch.New(m, watch.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		defer func() { cancel(); <-done }()
		s := p.Subscribe()
		s.Want([]dep.Dependency{keyA})
		time.Sleep(time.Second)
		synctest.Wait()
		<-s.Changed()

		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 20, Value: val1}}))
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case <-s.Changed():
			t.Fatal("moving to equal data signalled a change")
		default:
		}
		if _, open := f.stats(); open != 0 {
			t.Fatalf("%d queries open in Consul while the data answers", open)
		}
		m.srv.serve(published(2, map[dep.Dependency]Entry{keyA: {Index: 21, Value: val2}}))
		time.Sleep(time.Second)
		synctest.Wait()
		<-s.Changed()
		if v, _ := s.Recall(keyA); v != val2 {
			t.Fatal(v)
		}
		m.srv.serve(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if v, _ := s.Recall(keyA); v != val1 {
			t.Fatalf("after the data was distrusted: %v, want Consul's", v)
		}
	})
}

// TestSameIndexOtherDataIsAChange: indexes of different leaders' data, or
// of a restarted Consul, can collide; an answer with the index the pool
// holds but other data must still reach it.
func TestSameIndexOtherDataIsAChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeConsul()
		m := New(nil, f, Options{})
		m.srv.serve(published(1, map[dep.Dependency]Entry{keyA: {Index: 14, Value: val1}}))
		p := watch.New(m, watch.Options{})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); _ = p.Run(ctx) }()
		defer func() { cancel(); <-done }()
		s := p.Subscribe()
		s.Want([]dep.Dependency{keyA})
		time.Sleep(time.Second)
		synctest.Wait()
		<-s.Changed()

		// Another leader's data: the same index, other data.
		other := published(1, map[dep.Dependency]Entry{keyA: {Index: 14, Value: val2}})
		other.Session = "another"
		m.srv.serve(other)
		time.Sleep(time.Second)
		synctest.Wait()
		if v, _ := s.Recall(keyA); v != val2 {
			t.Fatalf("another leader's data at the same index: %v, want %v", v, val2)
		}
		// Consul itself, restarted: the same index again, other data.
		f.set(keyA, 14, val3)
		m.srv.serve(nil)
		time.Sleep(time.Second)
		synctest.Wait()
		if v, _ := s.Recall(keyA); v != val3 {
			t.Fatalf("Consul after the data at the same index: %v, want %v", v, val3)
		}
		<-s.Changed()
		// And quiet again: one blocking query, no busy loop.
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if calls, open := f.stats(); open != 1 || len(calls) > 4 {
			t.Fatalf("%d queries, %d open: %+v", len(calls), open, calls)
		}
	})
}

type fetchFunc func(ctx context.Context) (any, watch.ResponseMeta, error)

func (f fetchFunc) Fetch(ctx context.Context, _ dep.Dependency, _ watch.QueryOptions) (any, watch.ResponseMeta, error) {
	return f(ctx)
}

// TestFailedQueryIsNotShared: an answer whose latest query failed is not
// published (its last answer may be out of date while the followers' own
// queries would succeed) until a query answers again; a query the caller
// gave up on is no failure.
func TestFailedQueryIsNotShared(t *testing.T) {
	var failure error
	m := New(nil, fetchFunc(func(ctx context.Context) (any, watch.ResponseMeta, error) {
		if err := cmp.Or(ctx.Err(), failure); err != nil {
			return nil, watch.ResponseMeta{}, err
		}
		return val1, watch.ResponseMeta{LastIndex: 5}, nil
	}), Options{})
	fetch := func(ctx context.Context) { _, _, _ = m.Fetch(ctx, keyA, watch.QueryOptions{}) }
	// check looks at what is recorded, and whether the leader's publisher
	// was told of a change since the last check.
	check := func(step string, shared, news bool) {
		t.Helper()
		a := m.rec.copy()[keyA]
		if (a.raw != nil) != shared || a.index != 5 || (!shared && a.err != errQuery) {
			t.Fatalf("%s: recorded %+v", step, a)
		}
		told := false
		select {
		case <-m.rec.changed:
			told = true
		default:
		}
		if told != news {
			t.Fatalf("%s: publisher told of a change %v, want %v", step, told, news)
		}
	}
	fetch(t.Context())
	check("answered", true, true)
	failure = errors.New("no path to datacenter")
	fetch(t.Context())
	check("failed", false, true)
	fetch(t.Context())
	check("failed again", false, false)
	failure = nil
	fetch(t.Context())
	check("answered again", true, true)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	fetch(ctx)
	check("given up", true, false)
}
