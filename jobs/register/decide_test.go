package register

import (
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

func TestDecide(t *testing.T) {
	started := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	running := func(mod func(*docker.State)) *docker.Container {
		c := readInspect(t, "published")
		c.State = docker.State{Running: true, StartedAt: started}
		if mod != nil {
			mod(&c.State)
		}
		return c
	}
	exited := func(code int) *docker.Container {
		return running(func(s *docker.State) { s.Running, s.ExitCode = false, code })
	}
	type want struct {
		services int
		keep     bool
		maint    string // of the services, or of kept ones
		running  bool
	}
	cases := []struct {
		name string
		o    observation
		cfg  settings
		want want
	}{
		{"running", observation{c: running(nil)}, settings{cleanup: true}, want{services: 1, running: true}},
		{"paused", observation{c: running(func(s *docker.State) { s.Paused = true })}, settings{}, want{services: 1, maint: reasonPaused, running: true}},
		{"stop signal while it drains", observation{c: running(nil), stopping: started.Add(time.Second)}, settings{}, want{services: 1, maint: stoppingReason(started.Add(time.Second)), running: true}},
		{"stop signal before a restart", observation{c: running(nil), stopping: started.Add(-time.Second)}, settings{}, want{services: 1, running: true}},
		{"filtered out", observation{c: running(nil)}, settings{filter: map[string]string{"team": ""}}, want{}},
		{"filter matches", observation{c: running(nil)}, settings{filter: map[string]string{"SERVICE_NAME": "web"}}, want{services: 1, running: true}},
		{"gone, seen", observation{event: true}, settings{}, want{}},
		{"gone, cleanup", observation{}, settings{cleanup: true}, want{}},
		{"gone, unseen, no cleanup", observation{}, settings{}, want{keep: true}},
		{"exited 0", observation{c: exited(0), event: true}, settings{onSuccess: true}, want{}},
		{"killed by a signal, on-success", observation{c: exited(137), event: true}, settings{onSuccess: true}, want{}},
		{"crashed, on-success", observation{c: exited(2), event: true}, settings{onSuccess: true}, want{keep: true, maint: "drcon: container exited with code 2"}},
		{"crashed, always", observation{c: exited(2), event: true}, settings{}, want{}},
		{"crashed, unseen, no cleanup", observation{c: exited(2)}, settings{}, want{keep: true}},
		{"restarting", observation{c: running(func(s *docker.State) { s.Restarting, s.ExitCode = true, 1 }), event: true}, settings{onSuccess: true}, want{keep: true, maint: "drcon: container exited with code 1"}},
		{"dead", observation{c: running(func(s *docker.State) { s.Dead = true }), event: true}, settings{}, want{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := decide(c.o, c.cfg, testIdentity)
			maint := d.maint
			for _, s := range d.services {
				maint = s.Maint
			}
			got := want{services: len(d.services), keep: d.keep, maint: maint, running: d.running}
			if got != c.want {
				t.Errorf("decide = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestStoppingReason(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 3, 5, time.FixedZone("x", 3600))
	if got := stoppingSince(stoppingReason(at)); !got.Equal(at) {
		t.Errorf("stoppingSince(stoppingReason(%v)) = %v", at, got)
	}
	for _, notes := range []string{"", reasonPaused, reasonStopping, reasonStopping + " since yesterday", "drcon: container exited with code 2"} {
		if got := stoppingSince(notes); !got.IsZero() {
			t.Errorf("stoppingSince(%q) = %v, want zero", notes, got)
		}
	}
}
