package demo

import (
	"strings"
	"testing"
	"time"
)

func TestReportAttributesRequestsToPhases(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	rec := NewRecorder()
	for _, r := range []Result{
		{Sent: at(-5), Backend: "a"}, // sent just before the first mark
		{Sent: at(10), Backend: "b"},
		{Sent: at(1000), Err: "502 Bad Gateway"},
		{Sent: at(1500), Backend: "c"},
		{Sent: at(2000), Err: "EOF"},
		{Sent: at(2001), Backend: "a"},
	} {
		rec.add(r)
	}
	r := report(rec, []phaseMark{{"one", at(0)}, {"two", at(1000)}, {"three", at(2000)}},
		[]Started{{Host: "c", Phase: "two", Propagation: 80 * time.Millisecond}})
	want := []PhaseReport{
		{Name: "one", Requests: 2},
		{Name: "two", Requests: 2, Failures: 1, Failed: []string{"502 Bad Gateway"}},
		{Name: "three", Requests: 2, Failures: 1, Failed: []string{"EOF"}},
	}
	if r.Requests != 6 || r.Failures != 2 || r.Backends != 3 {
		t.Errorf("totals: %d requests, %d failures, %d backends; want 6, 2, 3", r.Requests, r.Failures, r.Backends)
	}
	for i, w := range want {
		g := r.Phases[i]
		if g.Name != w.Name || g.Requests != w.Requests || g.Failures != w.Failures || strings.Join(g.Failed, "|") != strings.Join(w.Failed, "|") {
			t.Errorf("phase %d: got %+v, want %+v", i, g, w)
		}
	}
	if p := r.Phase("three"); p.Requests != 2 {
		t.Errorf("Phase(three) = %+v", p)
	}
}

func TestReportPrint(t *testing.T) {
	r := &Report{Requests: 1706, Failures: 1, Backends: 7,
		Phases: []PhaseReport{
			{Name: PhaseSteady, Requests: 154},
			{Name: PhaseUp, Requests: 353},
			{Name: PhaseStop, Requests: 525},
			{Name: PhaseKill, Requests: 374, Failures: 1, Failed: []string{"502 Bad Gateway"}},
			{Name: PhaseUpAgain, Requests: 300},
		},
		Started: []Started{
			{Host: "7c59dd1660c3", Phase: PhaseUp, Propagation: 76 * time.Millisecond},
			{Host: "0b82641825d2", Phase: PhaseUpAgain, Propagation: 1200 * time.Millisecond},
		}}
	var b strings.Builder
	if err := r.Print(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.String())
}
