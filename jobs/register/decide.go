package register

import (
	"fmt"
	"strings"
	"time"

	docker "github.com/fsouza/go-dockerclient"
)

// observation is what drcon knows of one container when it converges it.
type observation struct {
	c    *docker.Container // live inspect; nil when the container is gone
	netc *docker.Container // owner of c's network namespace, if it shares one
	// event is true when Docker told of a change to the container, so that
	// its services go even where cleanup is off: cleanup is about
	// containers that went while nobody watched.
	event bool
	// stopping is when the container was last sent SIGTERM, SIGINT,
	// SIGKILL or its own stop signal (or stopped); it drains until it dies
	// or starts again.
	stopping time.Time
}

// decision is what a container's services should be.
type decision struct {
	services []*service // wanted services, unless keep
	// keep leaves the services the container has as they are; with maint
	// set, they are put in maintenance.
	keep  bool
	maint string
	// running is true for a running container that passes the filter.
	running  bool
	warnings []warning
}

// Maintenance reasons; Consul shows them as the notes of the critical
// maintenance check.
const (
	reasonStopping = "drcon: container stopping" // followed by " since <time>" (stoppingReason)
	reasonPaused   = "drcon: container paused"
)

// stoppingReason is the maintenance reason of a container told to stop at
// at. The time lets a drcon that restarts while the container drains keep
// its service out of rotation (stoppingSince): Consul keeps no time of its
// own for a maintenance check, and Docker's replay of the stop event may be
// gone, or not go back far enough, by then.
func stoppingReason(at time.Time) string {
	return reasonStopping + " since " + at.UTC().Format(time.RFC3339Nano)
}

// stoppingSince reads the time of a stoppingReason; zero for other notes.
func stoppingSince(notes string) time.Time {
	s, ok := strings.CutPrefix(notes, reasonStopping+" since ")
	if !ok {
		return time.Time{}
	}
	at, _ := time.Parse(time.RFC3339Nano, s)
	return at
}

// decide applies the lifecycle rules to one container:
//   - running: its services, in maintenance while it drains after a stop
//     signal or while it is paused (registrator #127, #685);
//   - gone, or exited: no services, or with deregister = "on-success" a
//     crash (a non-zero exit not caused by a signal) keeps them, in
//     maintenance, as registrator kept them;
//   - gone or exited with nobody having watched it go and cleanup off:
//     its services are left alone.
func decide(o observation, s settings, id identity) decision {
	c := o.c
	if c == nil {
		if o.event || s.cleanup {
			return decision{}
		}
		return decision{keep: true}
	}
	var labels map[string]string
	if c.Config != nil {
		labels = c.Config.Labels
	}
	if !s.matches(labels) {
		return decision{}
	}
	st := c.State
	if st.Running && !st.Restarting && !st.Dead && !st.RemovalInProgress {
		services, warns := buildServices(c, o.netc, s, id)
		reason := ""
		switch {
		case !o.stopping.IsZero() && o.stopping.After(st.StartedAt):
			reason = stoppingReason(o.stopping)
		case st.Paused:
			reason = reasonPaused
		}
		for _, svc := range services {
			svc.Maint = reason
		}
		return decision{services: services, running: true, warnings: warns}
	}
	if !o.event && !s.cleanup {
		return decision{keep: true}
	}
	if s.onSuccess && st.ExitCode != 0 && st.ExitCode&128 == 0 {
		return decision{keep: true, maint: fmt.Sprintf("drcon: container exited with code %d", st.ExitCode)}
	}
	return decision{}
}
