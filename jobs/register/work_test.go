package register

import (
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

func TestEventWork(t *testing.T) {
	at := time.Unix(100, 5)
	ev := func(typ, action string, attrs map[string]string) *docker.APIEvents {
		return &docker.APIEvents{Type: typ, Action: action, Actor: docker.APIActor{ID: "c1", Attributes: attrs}, TimeNano: at.UnixNano()}
	}
	cases := []struct {
		ev       *docker.APIEvents
		id       string
		stopping bool
		kill     int // a signal that stops the container only if it is its stop signal
	}{
		{ev: ev("container", "start", nil), id: "c1"},
		{ev: ev("container", "die", map[string]string{"exitCode": "1"}), id: "c1"},
		{ev: ev("container", "health_status: unhealthy", nil), id: "c1"},
		{ev: ev("container", "kill", map[string]string{"signal": "15"}), id: "c1", stopping: true},
		{ev: ev("container", "kill", map[string]string{"signal": "SIGKILL"}), id: "c1", stopping: true},
		{ev: ev("container", "kill", map[string]string{"signal": "2"}), id: "c1", stopping: true},
		// HUP is a reload (#248), unless it is the container's stop signal,
		// as QUIT is nginx's.
		{ev: ev("container", "kill", map[string]string{"signal": "1"}), id: "c1", kill: 1},
		{ev: ev("container", "kill", map[string]string{"signal": "SIGQUIT"}), id: "c1", kill: 3},
		{ev: ev("container", "kill", map[string]string{"signal": "usr1"}), id: "c1", kill: 10},
		{ev: ev("container", "kill", map[string]string{"signal": "nonsense"}), id: ""},
		{ev: ev("container", "stop", nil), id: "c1", stopping: true},
		{ev: ev("container", "exec_start: sh", nil), id: ""},
		{ev: ev("container", "create", nil), id: ""},
		{ev: ev("network", "connect", map[string]string{"container": "c2"}), id: "c2"},
		{ev: ev("network", "disconnect", map[string]string{"container": "c2"}), id: "c2"},
		{ev: ev("network", "destroy", nil), id: ""},
		{ev: ev("image", "pull", nil), id: ""},
	}
	for _, c := range cases {
		id, w := eventWork(c.ev, at)
		if id != c.id {
			t.Errorf("%s %s %v: container %q, want %q", c.ev.Type, c.ev.Action, c.ev.Actor.Attributes, id, c.id)
			continue
		}
		if id == "" {
			continue
		}
		if !w.converge || !w.event {
			t.Errorf("%s: work %+v should converge as an event", c.ev.Action, w)
		}
		if got := !w.stopping.IsZero(); got != c.stopping || (got && !w.stopping.Equal(at)) {
			t.Errorf("%s %v: stopping %v", c.ev.Action, c.ev.Actor.Attributes, w.stopping)
		}
		if c.kill != 0 && (len(w.kills) != 1 || !w.kills[c.kill].Equal(at)) || c.kill == 0 && len(w.kills) != 0 {
			t.Errorf("%s %v: kills %v, want signal %d", c.ev.Action, c.ev.Actor.Attributes, w.kills, c.kill)
		}
	}
	if _, w := eventWork(ev("container", "die", nil), at.Add(time.Nanosecond)); w.event || !w.converge {
		t.Errorf("a replayed event should converge without counting as seen: %+v", w)
	}
	if got := eventLabel(ev("container", "health_status: healthy", nil)); got != "health_status" {
		t.Errorf("eventLabel = %q", got)
	}
	// A container that turns healthy gets back services Consul reaped.
	for action, healthy := range map[string]bool{"health_status: healthy": true, "health_status: unhealthy": false, "start": false} {
		if _, w := eventWork(ev("container", action, nil), at); w.healthy != healthy {
			t.Errorf("%s: healthy = %v", action, w.healthy)
		}
	}
}

func TestWorkMerge(t *testing.T) {
	r1, r2 := newRound(1), newRound(1)
	w := &work{refresh: true, stopping: time.Unix(5, 0), snap: &snapshot{seq: 3}, rounds: []*round{r1}}
	w.merge(&work{converge: true, event: true, healthy: true, stopping: time.Unix(4, 0), snap: &snapshot{seq: 2}, rounds: []*round{r2}})
	if !w.converge || !w.event || !w.refresh || !w.healthy || !w.stopping.Equal(time.Unix(5, 0)) || w.snap.seq != 3 || len(w.rounds) != 2 {
		t.Errorf("merged %+v", w)
	}
	w.merge(&work{stopping: time.Unix(6, 0), snap: &snapshot{seq: 7}})
	if !w.stopping.Equal(time.Unix(6, 0)) || w.snap.seq != 7 {
		t.Errorf("the later stop and the newer listing win: %+v", w)
	}
	w.merge(&work{kills: map[int]time.Time{3: time.Unix(5, 0)}})
	w.merge(&work{kills: map[int]time.Time{3: time.Unix(4, 0), 1: time.Unix(6, 0)}})
	if len(w.kills) != 2 || !w.kills[3].Equal(time.Unix(5, 0)) || !w.kills[1].Equal(time.Unix(6, 0)) {
		t.Errorf("kills keep the latest of each signal: %v", w.kills)
	}
}
