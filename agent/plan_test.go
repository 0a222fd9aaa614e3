package agent

import (
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	s := func(name, kind, fp string) spec { return spec{name: name, kind: kind, fingerprint: fp} }
	old := map[string]spec{
		"a": s("a", "template", "1"),
		"b": s("b", "template", "2"),
		"c": s("c", "registrator", "3"),
		"d": s("d", "template", "4"),
	}
	next := map[string]spec{
		"a": s("a", "template", "1"),    // unchanged
		"b": s("b", "template", "2b"),   // edited
		"c": s("c", "template", "3"),    // kind changed
		"e": s("e", "registrator", "5"), // new
	}
	tests := []struct {
		name       string
		restartAll bool
		want       plan
	}{
		{"by fingerprint", false, plan{keep: []string{"a"}, restart: []string{"b", "c"}, stop: []string{"d"}, start: []string{"e"}}},
		{"consul changed", true, plan{restart: []string{"a", "b", "c"}, stop: []string{"d"}, start: []string{"e"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diff(old, next, tt.restartAll)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("diff = %+v, want %+v", got, tt.want)
			}
		})
	}
	if p := diff(old, old, false); !p.empty() {
		t.Fatalf("identical configs should give an empty plan, got %+v", p)
	}
}
