package register

import (
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// dockerAttributes are the attributes Docker adds to a container event
// beside the container's labels; a filter on a label of one of these names
// cannot be checked on the event.
var dockerAttributes = map[string]bool{"name": true, "image": true, "exitCode": true, "signal": true, "execID": true}

// dispatch queues the work an event asks for. It never blocks: Docker
// drops the events of a reader that is slower than 100ms. live is the
// engine's time when drcon subscribed.
func (j *Job) dispatch(ev *docker.APIEvents, live time.Time) {
	j.countEvent(eventLabel(ev))
	id, w := eventWork(ev, live)
	if id == "" {
		return
	}
	if ev.Type == "container" && !j.relevant(id, ev.Actor.Attributes) {
		return
	}
	j.q.push(id, w)
}

// relevant reports whether a container event may concern this block: its
// labels (which container events carry) pass the filter, or drcon knows the
// container. It spares an inspect per event of every other container on a
// shared engine.
func (j *Job) relevant(id string, attrs map[string]string) bool {
	for k := range j.set.filter {
		if dockerAttributes[k] {
			return true
		}
	}
	if j.set.matches(attrs) {
		return true
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	_, known := j.entries[id]
	return known
}
