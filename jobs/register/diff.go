package register

import (
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/hashicorp/consul/api"
)

// actualService is what the Consul agent has for one of drcon's services.
type actualService struct {
	Name    string
	Address string
	Port    int
	Tags    []string
	Hash    string // the drcon-hash meta
	Maint   bool   // in maintenance mode
	// Stopping is when the container was told to stop, as drcon's
	// maintenance reason says (stoppingReason); zero otherwise.
	Stopping time.Time
	// Checks are the service's checks by ID with their status, the
	// maintenance check left out.
	Checks map[string]string
	// Foreign are the SERVICE_CHECK_TTL checks that something else, the
	// application in the container, updates: drcon leaves them to it.
	Foreign map[string]bool
}

type actionKind int

const (
	actRegister actionKind = iota
	actDeregister
	actMaintOn
	actMaintOff
	actTTL
)

// action is one write to the Consul agent.
type action struct {
	kind    actionKind
	service string // service ID
	reg     *api.AgentServiceRegistration
	reason  string // actMaintOn
	check   string // actTTL: check ID
	status  string // actTTL
	output  string // actTTL
}

// Outcomes of a service in a reconcile, the action label of
// drcon_registrator_reconcile_actions_total.
const (
	outcomeRegister   = "register"
	outcomeUpdate     = "update"
	outcomeDeregister = "deregister"
	outcomeNoop       = "noop"
)

// plan is the writes that take a container's services from actual to d,
// and what each service's outcome was.
type plan struct {
	actions  []action
	outcomes map[string]string // service ID -> outcome
}

// diff plans the fewest writes that take the agent from actual to d. A
// service whose registration is unchanged is never registered again: that
// would wake every blocking query on it (registrator #449).
func diff(d decision, actual map[string]actualService) plan {
	p := plan{outcomes: map[string]string{}}
	if d.keep {
		for _, id := range sortedKeys(actual) {
			if d.maint != "" && !actual[id].Maint {
				p.actions = append(p.actions, action{kind: actMaintOn, service: id, reason: d.maint})
				p.outcomes[id] = outcomeUpdate
			} else {
				p.outcomes[id] = outcomeNoop
			}
		}
		return p
	}
	want := map[string]bool{}
	for _, svc := range d.services {
		want[svc.Reg.ID] = true
	}
	for _, id := range sortedKeys(actual) {
		if !want[id] {
			p.actions = append(p.actions, action{kind: actDeregister, service: id})
			p.outcomes[id] = outcomeDeregister
		}
	}
	for _, svc := range d.services {
		id := svc.Reg.ID
		a, exists := actual[id]
		n := len(p.actions)
		maint := a.Maint
		if !exists || !same(svc, a) {
			p.actions = append(p.actions, action{kind: actRegister, service: id, reg: svc.Reg})
			// Registering replaces the service's checks, the maintenance
			// check among them.
			maint = false
		}
		switch {
		case svc.Maint != "" && !maint:
			p.actions = append(p.actions, action{kind: actMaintOn, service: id, reason: svc.Maint})
		case svc.Maint == "" && maint:
			p.actions = append(p.actions, action{kind: actMaintOff, service: id})
		}
		for _, t := range svc.TTLs {
			// A check the agent had keeps its status through a new
			// registration; a new one starts at the registered status. One
			// that another writer updates is left to it (foreignTTL).
			cur, had := a.Checks[t.ID]
			if had && cur != t.Status && !a.Foreign[t.ID] {
				p.actions = append(p.actions, action{kind: actTTL, service: id, check: t.ID, status: t.Status, output: t.Output})
			}
		}
		switch {
		case !exists:
			p.outcomes[id] = outcomeRegister
		case len(p.actions) > n:
			p.outcomes[id] = outcomeUpdate
		default:
			p.outcomes[id] = outcomeNoop
		}
	}
	return p
}

// same reports whether the agent has svc as drcon would register it now.
func same(svc *service, a actualService) bool {
	r := svc.Reg
	if a.Hash != svc.Hash || a.Name != r.Name || a.Port != r.Port || a.Address != r.Address || !slices.Equal(a.Tags, r.Tags) {
		return false
	}
	for _, c := range r.Checks {
		if _, ok := a.Checks[c.CheckID]; !ok {
			return false
		}
	}
	return true
}

// after is what the agent has once every action of diff(d, actual) is done.
func after(d decision, actual map[string]actualService) map[string]actualService {
	out := map[string]actualService{}
	if d.keep {
		for id, a := range actual {
			a.Maint = a.Maint || d.maint != ""
			out[id] = a
		}
		return out
	}
	for _, svc := range d.services {
		r := svc.Reg
		prev := actual[r.ID]
		a := actualService{Name: r.Name, Address: r.Address, Port: r.Port, Tags: r.Tags, Hash: svc.Hash,
			Maint: svc.Maint != "", Checks: map[string]string{}, Foreign: prev.Foreign}
		for _, c := range r.Checks {
			status, ok := prev.Checks[c.CheckID]
			if !ok {
				status = c.Status
				if status == "" {
					status = api.HealthCritical
				}
			}
			a.Checks[c.CheckID] = status
		}
		for _, t := range svc.TTLs {
			if !a.Foreign[t.ID] {
				a.Checks[t.ID] = t.Status
			}
		}
		out[r.ID] = a
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := slices.Collect(maps.Keys(m))
	sort.Strings(keys)
	return keys
}
