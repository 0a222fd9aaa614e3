package register

import (
	"strconv"
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
	// kills are the other signals kill events sent, by number, with the
	// latest time of each: the one that is the container's own stop signal
	// (nginx's QUIT) stops it too, which only an inspect can tell.
	kills map[int]time.Time
	// healthy: Docker reported the container healthy (health_status:
	// healthy), which with health = "docker" registers again the services
	// Consul reaped while it was not.
	healthy bool
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
	w.kills = mergeKills(w.kills, o.kills)
	w.refresh = w.refresh || o.refresh
	w.healthy = w.healthy || o.healthy
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
		action, status, _ := strings.Cut(ev.Action, ":")
		switch action {
		case "health_status":
			w.healthy = strings.TrimSpace(status) == "healthy"
		case "kill":
			sig, ok := signalNumber(ev.Actor.Attributes["signal"])
			switch {
			case !ok:
				return "", nil
			case stopSignal(sig):
				w.stopping = at
			default:
				w.kills = map[int]time.Time{sig: at}
			}
		case "stop":
			w.stopping = at
		case "start", "restart", "die", "destroy", "pause", "unpause", "rename", "update":
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

// mergeKills adds the kills of b to a, keeping the latest time of each
// signal.
func mergeKills(a, b map[int]time.Time) map[int]time.Time {
	for sig, at := range b {
		if a == nil {
			a = map[int]time.Time{}
		}
		if at.After(a[sig]) {
			a[sig] = at
		}
	}
	return a
}

// stopSignal reports whether a kill signal stops any container: TERM, INT
// and KILL. Others (HUP to reload a config, USR1, ...) leave it serving and
// registered (registrator #248), unless the container's own stop signal is
// that one.
func stopSignal(sig int) bool {
	return sig == 15 || sig == 2 || sig == 9
}

// linuxSignals are the numbers of signals on Linux, where containers run,
// whatever system drcon runs on: Docker reports the signal of a kill event
// by number, and a container's stop signal as it was written.
var linuxSignals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "IOT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16, "CHLD": 17,
	"CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23, "XCPU": 24, "XFSZ": 25,
	"VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "POLL": 29, "PWR": 30, "SYS": 31,
}

// signalNumber reads a signal as Docker writes it: a number, or a name with
// or without "SIG", in any case.
func signalNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n > 0
	}
	n, ok := linuxSignals[strings.TrimPrefix(strings.ToUpper(s), "SIG")]
	return n, ok
}

// containerStopSignal is the signal `docker stop` sends c: its STOPSIGNAL,
// TERM by default.
func containerStopSignal(c *docker.Container) int {
	if c.Config != nil && c.Config.StopSignal != "" {
		if n, ok := signalNumber(c.Config.StopSignal); ok {
			return n
		}
	}
	return 15
}
