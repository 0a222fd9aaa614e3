package register

import (
	"strings"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// work is what is pending for one container. Events merge into it in the
// order they arrive, so that one pass does what passing each in turn would
// have done: every pass inspects the container live, and the one thing an
// inspect cannot tell, that a stop signal was sent, travels as a time.
type work struct {
	converge bool      // inspect the container and apply the difference
	event    bool      // Docker told of a change (see observation.event)
	stopping time.Time // latest stop signal seen
	refresh  bool      // send the TTL checks' statuses again
	snap     *snapshot // the agent's services of the container, from a reconcile
	rounds   []*round  // reconciles waiting for this container
}

// snapshot is the agent's services of one container as a reconcile listed
// them. seq orders it against drcon's own writes (see state.seq).
type snapshot struct {
	seq      uint64
	services map[string]actualService
	// sameAgent: the agent listed is the one the services were registered
	// with, so that one missing was removed from it (by Consul's
	// deregister_critical_service_after, or by hand), not lost with a
	// restart.
	sameAgent bool
}

func (w *work) merge(o *work) {
	w.converge = w.converge || o.converge
	w.event = w.event || o.event
	if o.stopping.After(w.stopping) {
		w.stopping = o.stopping
	}
	w.refresh = w.refresh || o.refresh
	if o.snap != nil && (w.snap == nil || o.snap.seq > w.snap.seq) {
		w.snap = o.snap
	}
	w.rounds = append(w.rounds, o.rounds...)
}

// eventFilters are the events drcon subscribes to. Filter keys are ANDed and
// values ORed, so these select container and network events with one of
// these actions; "health_status" matches every "health_status: <status>",
// and the exec_* events of every healthcheck probe stay out.
var eventFilters = map[string][]string{
	"type": {"container", "network"},
	"event": {"start", "restart", "die", "stop", "kill", "destroy", "pause", "unpause",
		"health_status", "rename", "update", "connect", "disconnect"},
}

// eventWork is what an event asks of its container: the container's ID and
// the work, or "" when the event changes nothing. An event from before live
// (the engine's time at subscribing) is a replay of what happened while
// nobody watched: it asks for a pass, but is no sighting (see
// observation.event), so that cleanup = false keeps its meaning.
func eventWork(ev *docker.APIEvents, live time.Time) (string, *work) {
	at := time.Unix(0, ev.TimeNano)
	if ev.TimeNano == 0 {
		at = time.Unix(ev.Time, 0)
	}
	w := &work{converge: true, event: !at.Before(live)}
	switch ev.Type {
	case "container":
		action, _, _ := strings.Cut(ev.Action, ":")
		switch action {
		case "kill":
			if !stopSignal(ev.Actor.Attributes["signal"]) {
				return "", nil
			}
			w.stopping = at
		case "stop":
			w.stopping = at
		case "start", "restart", "die", "destroy", "pause", "unpause", "health_status", "rename", "update":
		default:
			return "", nil
		}
		return ev.Actor.ID, w
	case "network":
		id := ev.Actor.Attributes["container"]
		if (ev.Action != "connect" && ev.Action != "disconnect") || id == "" {
			return "", nil
		}
		return id, w
	}
	return "", nil
}

// eventLabel is the type label of drcon_registrator_docker_events_total:
// the action, without the status of health_status.
func eventLabel(ev *docker.APIEvents) string {
	action, _, _ := strings.Cut(ev.Action, ":")
	return action
}

// stopSignal reports whether a kill signal stops the container. Others
// (HUP to reload a config, USR1, ...) leave it serving and registered
// (registrator #248). Docker reports the signal by number.
func stopSignal(sig string) bool {
	switch strings.TrimPrefix(strings.ToUpper(sig), "SIG") {
	case "TERM", "15", "INT", "2", "KILL", "9":
		return true
	}
	return false
}
