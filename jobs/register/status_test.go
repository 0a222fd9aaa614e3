package register

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/consul/api"
)

// A job without metrics records nothing and does not fail.
func TestNilMetrics(t *testing.T) {
	j := &Job{name: "x"}
	j.countWrite("register")
	j.countOutcome(outcomeNoop)
	j.countEvent("start")
}

// TestRefusedByConsul: a write the agent answered with an error status,
// but a limit or an outage, is a refusal; every joined error must be one.
func TestRefusedByConsul(t *testing.T) {
	refusal := fmt.Errorf("service x: register: %w", api.StatusError{Code: 500, Body: "Scripts are disabled"})
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{refusal, true},
		{api.StatusError{Code: 400}, true},
		{api.StatusError{Code: 429}, false},
		{api.StatusError{Code: 503}, false},
		{errors.New("connection refused"), false},
		{errors.Join(refusal, api.StatusError{Code: 403}), true},
		{errors.Join(refusal, errors.New("connection refused")), false},
	} {
		if got := refusedByConsul(tc.err); got != tc.want {
			t.Errorf("refusedByConsul(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestNoteReaped: a service missing from a listing of the same agent is
// taken for reaped only when its check had a deregister-after.
func TestNoteReaped(t *testing.T) {
	e := &entry{actual: map[string]actualService{"a": {}, "b": {}, "c": {}}, reapable: map[string]bool{"a": true, "c": true}}
	e.noteReaped(map[string]actualService{"c": {}})
	if len(e.reaped) != 1 || !e.reaped["a"] {
		t.Errorf("reaped %v, want a only (b has no deregister-after, c is still there)", e.reaped)
	}
}
