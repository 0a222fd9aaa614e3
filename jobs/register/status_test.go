package register

import "testing"

// A job without metrics records nothing and does not fail.
func TestNilMetrics(t *testing.T) {
	j := &Job{name: "x"}
	j.countWrite("register")
	j.countOutcome(outcomeNoop)
	j.countEvent("start")
}
