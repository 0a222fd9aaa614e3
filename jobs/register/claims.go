package register

import "fmt"

// holder is the container that holds a service ID. The agent has one
// service per ID, so two containers that would register the same one (a
// SERVICE_ID on a scaled Compose service, a container name taken over while
// the old container's services are still there) must not overwrite, put in
// maintenance or deregister each other's: the first holds the ID until its
// service is gone, and the others wait.
type holder struct {
	container, name string
	running         bool
	// waiting are the containers refused the ID, converged again once it
	// is free.
	waiting map[string]bool
}

// claim gives container id the IDs of its wanted services that no other
// container holds, and leaves out of d, with a warning, those another
// running container holds; a container that no longer runs (kept, in
// maintenance, by deregister = "on-success") yields its IDs to a running
// one. The agent's service of an ID another container holds is that
// container's, so it is no longer in e.actual: diff must not touch it.
func (j *Job) claim(id string, e *entry, d *decision) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for sid := range e.actual {
		if h := j.holders[sid]; h != nil && h.container != id {
			delete(e.actual, sid)
		}
	}
	kept := d.services[:0]
	for _, svc := range d.services {
		sid := svc.Reg.ID
		h := j.holders[sid]
		if h != nil && h.container != id && (h.running || !d.running) {
			if h.waiting == nil {
				h.waiting = map[string]bool{}
			}
			h.waiting[id] = true
			d.warnings = append(d.warnings, warning{msg: fmt.Sprintf("container %s has service ID %q; not registered until that container's service goes "+
				"(give each container a SERVICE_ID of its own)", h.name, sid)})
			continue
		}
		if h == nil || h.container != id {
			taken := &holder{container: id}
			if h != nil {
				taken.waiting = h.waiting
				delete(taken.waiting, id)
				if prev := j.entries[h.container]; prev != nil {
					delete(prev.claims, sid)
				}
			}
			h = taken
			j.holders[sid] = h
			if e.claims == nil {
				e.claims = map[string]bool{}
			}
			e.claims[sid] = true
		}
		// A holder that starts running holds at once; one that stops yields
		// in release, once this convergence's writes to the ID are done.
		h.name, h.running = e.label(id), h.running || d.running
		kept = append(kept, svc)
	}
	d.services = kept
}

// release frees the IDs container id held and no longer has on the agent,
// and yields those it keeps while it no longer runs (e.running), once its
// writes are done, and converges again the containers that waited for
// them: one converged before those writes would register the ID, which
// the holder's deregistration or maintenance would then hit. The caller
// holds j.mu.
func (j *Job) release(id string, e *entry) {
	for sid := range e.claims {
		if _, ok := e.actual[sid]; ok {
			if h := j.holders[sid]; h != nil && h.container == id && h.running && !e.running {
				h.running = false
				for w := range h.waiting {
					j.q.push(w, &work{converge: true})
				}
			}
			continue
		}
		delete(e.claims, sid)
		h := j.holders[sid]
		if h == nil || h.container != id {
			continue
		}
		delete(j.holders, sid)
		for w := range h.waiting {
			j.q.push(w, &work{converge: true})
		}
	}
}
