package rendertest

import (
	"testing"

	"github.com/drcon/drcon/template/dep"
)

func signalled(s *Sub) bool {
	select {
	case <-s.Changed():
		return true
	default:
		return false
	}
}

// A job recalls what its template uses, then wants it: a change between the
// two, which no subscription wanted yet, signals at the Want. Without it
// the job would keep the older answer until some later change (seen as a
// flaky TestJobsWritingIntoSharedAnswers in jobs/render).
func TestWantSignalsAChangeSinceTheRecall(t *testing.T) {
	store := NewStore()
	store.SetKey("k", "1")
	sub := store.Subscribe()
	if v, ok := sub.Recall(KVBlock("k")); !ok || v.(dep.KVValue).Value != "1" {
		t.Fatalf("recall: %v %v", v, ok)
	}
	store.SetKey("k", "2")
	if signalled(sub) {
		t.Fatal("signalled for a dependency it does not want")
	}
	sub.Want([]dep.Dependency{KVBlock("k")})
	if !signalled(sub) {
		t.Fatal("the change between the recall and the want was not signalled")
	}

	// Unchanged since the recall, or already wanted: no signal.
	sub.Recall(KVBlock("k"))
	sub.Want([]dep.Dependency{KVBlock("k")})
	other := store.Subscribe()
	other.Recall(KV("k"))
	other.Want([]dep.Dependency{KV("k")})
	if signalled(sub) || signalled(other) {
		t.Fatal("signalled without a change")
	}
	// Missing when recalled, then set before the want.
	other.Recall(KVBlock("late"))
	store.SetKey("late", "x")
	other.Want([]dep.Dependency{KV("k"), KVBlock("late")})
	if !signalled(other) {
		t.Fatal("an answer that arrived between the recall and the want was not signalled")
	}
}
