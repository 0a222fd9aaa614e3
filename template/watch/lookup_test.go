package watch_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// Under FailLookups (err_on_failed_lookup), Consul's answer that a key does
// not exist wakes the subscriber and is its Failure, once; a subscriber
// without it, on the same watcher, neither hears of it nor fails. The key's
// arrival ends the failure for both.
func TestFailLookupsFailsAnAbsentKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		block := dep.Dependency{Kind: dep.KindKVBlock, Name: "k"}
		other := kv("other")
		f.set(block, 3, dep.KVValue{})
		f.set(other, 3, dep.KVValue{Exists: true, Value: "o"})
		p := runPool(t, f, watch.Options{})
		strict, patient := p.Subscribe(), p.Subscribe()
		strict.FailLookups()
		strict.Want([]dep.Dependency{block})
		patient.Want([]dep.Dependency{block})
		settle()
		if !signalled(strict) {
			t.Fatal("the absent key did not wake the subscriber that fails lookups")
		}
		if err := strict.Failure(block); !errors.Is(err, dep.ErrFailedLookup) {
			t.Fatalf("Failure = %v, want dep.ErrFailedLookup", err)
		}
		if signalled(patient) || patient.Failure(block) != nil {
			t.Fatalf("the subscriber that waits was signalled or failed (%v)", patient.Failure(block))
		}

		// Another answer that the key is absent (a write elsewhere moved
		// the index) says nothing new.
		f.set(block, 4, dep.KVValue{})
		settle()
		if signalled(strict) {
			t.Fatal("a second absent answer signalled again")
		}

		// A subscriber that comes to the watcher after the answer hears of
		// it at once, without a query.
		asked := func() (n int) {
			for _, c := range f.callsTo(block) {
				if c.q.WaitIndex == 0 {
					n++
				}
			}
			return n
		}
		before := asked()
		late := p.Subscribe()
		late.FailLookups()
		late.Want([]dep.Dependency{other, block})
		settle()
		if !signalled(late) || !errors.Is(late.Failure(block), dep.ErrFailedLookup) {
			t.Fatalf("a late subscriber was not told of the failed lookup (%v)", late.Failure(block))
		}
		if n := asked() - before; n != 0 {
			t.Fatalf("the late subscriber asked for the key afresh (%d queries)", n)
		}

		f.set(block, 5, dep.KVValue{Exists: true, Value: "v"})
		settle()
		for _, s := range []*watch.Subscription{strict, patient, late} {
			if !signalled(s) || s.Failure(block) != nil {
				t.Fatalf("the key's arrival: signalled and no failure wanted, got failure %v", s.Failure(block))
			}
		}
		// Deleted again, the key keeps its last value: no failure.
		f.set(block, 6, dep.KVValue{})
		settle()
		if err := strict.Failure(block); err != nil {
			t.Fatalf("Failure after the key was deleted = %v, want nil (its value is kept)", err)
		}
	})
}
