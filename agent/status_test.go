package agent

import (
	"testing"
	"time"

	"github.com/drcon/drcon/template/watch"
)

// A dependency without data has no age in status, rather than the time
// since its watch began.
func TestDependencyStateAge(t *testing.T) {
	waiting := dependencyState(watch.DependencyStatus{Dependency: "kv.block(a)", Age: time.Minute})
	if waiting.Age != nil {
		t.Errorf("no data yet: age %v, want none", *waiting.Age)
	}
	answered := dependencyState(watch.DependencyStatus{Dependency: "kv.block(a)", HasData: true, Age: time.Second})
	if answered.Age == nil || *answered.Age != time.Second {
		t.Errorf("data: age %v, want 1s", answered.Age)
	}
}
