package register

import (
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func TestDiff(t *testing.T) {
	web := func(mod func(*service)) *service {
		s := &service{Reg: &api.AgentServiceRegistration{ID: "h:web:80", Name: "web", Port: 8080, Address: "127.0.0.1",
			Tags: []string{"a"}, Checks: api.AgentServiceChecks{{CheckID: "drcon-health:h:web:80", TTL: "1m0s", Status: "passing"}}},
			TTLs: []ttlCheck{{ID: "drcon-health:h:web:80", Status: api.HealthPassing}}}
		if mod != nil {
			mod(s)
		}
		s.Hash = hashRegistration(s.Reg)
		return s
	}
	agentHas := func(s *service, mod func(*actualService)) map[string]actualService {
		a := actualService{Name: s.Reg.Name, Port: s.Reg.Port, Address: s.Reg.Address, Tags: s.Reg.Tags, Hash: s.Hash,
			Checks: map[string]string{"drcon-health:h:web:80": api.HealthPassing}}
		if mod != nil {
			mod(&a)
		}
		return map[string]actualService{s.Reg.ID: a}
	}
	kinds := func(p plan) []actionKind {
		var out []actionKind
		for _, a := range p.actions {
			out = append(out, a.kind)
		}
		return out
	}
	w := web(nil)
	cases := []struct {
		name    string
		d       decision
		actual  map[string]actualService
		want    []actionKind
		outcome string
	}{
		{"new", decision{services: []*service{w}}, nil, []actionKind{actRegister}, outcomeRegister},
		{"unchanged", decision{services: []*service{w}}, agentHas(w, nil), nil, outcomeNoop},
		{"agent normalised tags", decision{services: []*service{web(func(s *service) { s.Reg.Tags = nil })}},
			agentHas(web(func(s *service) { s.Reg.Tags = nil }), func(a *actualService) { a.Tags = []string{} }), nil, outcomeNoop},
		{"other port", decision{services: []*service{w}}, agentHas(w, func(a *actualService) { a.Port = 1 }), []actionKind{actRegister}, outcomeUpdate},
		{"other hash", decision{services: []*service{w}}, agentHas(w, func(a *actualService) { a.Hash = "x" }), []actionKind{actRegister}, outcomeUpdate},
		{"lost check", decision{services: []*service{w}}, agentHas(w, func(a *actualService) { a.Checks = map[string]string{} }), []actionKind{actRegister}, outcomeUpdate},
		{"health changed", decision{services: []*service{web(func(s *service) { s.TTLs[0].Status = api.HealthCritical })}},
			agentHas(w, nil), []actionKind{actTTL}, outcomeUpdate},
		{"re-registered check keeps its old status", decision{services: []*service{web(func(s *service) { s.Reg.Port = 1; s.TTLs[0].Status = api.HealthCritical })}},
			agentHas(w, nil), []actionKind{actRegister, actTTL}, outcomeUpdate},
		{"drain", decision{services: []*service{web(func(s *service) { s.Maint = reasonStopping })}}, agentHas(w, nil), []actionKind{actMaintOn}, outcomeUpdate},
		{"draining already", decision{services: []*service{web(func(s *service) { s.Maint = reasonStopping })}},
			agentHas(w, func(a *actualService) { a.Maint = true }), nil, outcomeNoop},
		{"back from pause", decision{services: []*service{w}}, agentHas(w, func(a *actualService) { a.Maint = true }), []actionKind{actMaintOff}, outcomeUpdate},
		{"re-register drops maintenance", decision{services: []*service{web(func(s *service) { s.Reg.Port = 1; s.Maint = reasonPaused })}},
			agentHas(w, func(a *actualService) { a.Maint = true }), []actionKind{actRegister, actMaintOn}, outcomeUpdate},
		{"gone", decision{}, agentHas(w, nil), []actionKind{actDeregister}, outcomeDeregister},
		{"keep", decision{keep: true}, agentHas(w, nil), nil, outcomeNoop},
		{"keep in maintenance", decision{keep: true, maint: "crashed"}, agentHas(w, nil), []actionKind{actMaintOn}, outcomeUpdate},
	}
	// A SERVICE_CHECK_TTL check that another writer updates is left to it.
	ttl := web(func(s *service) {
		s.Reg.Checks = api.AgentServiceChecks{{CheckID: "service:h:web:80", TTL: "30s", Status: "passing"}}
		s.TTLs = []ttlCheck{{ID: "service:h:web:80", Status: api.HealthPassing, Output: outputRunning}}
	})
	ttlHas := func(status string, foreign bool) map[string]actualService {
		return agentHas(ttl, func(a *actualService) {
			a.Checks = map[string]string{"service:h:web:80": status}
			if foreign {
				a.Foreign = map[string]bool{"service:h:web:80": true}
			}
		})
	}
	cases = append(cases, []struct {
		name    string
		d       decision
		actual  map[string]actualService
		want    []actionKind
		outcome string
	}{
		{"TTL check reset by drcon", decision{services: []*service{ttl}}, ttlHas(api.HealthCritical, false), []actionKind{actTTL}, outcomeUpdate},
		{"TTL check the application updates", decision{services: []*service{ttl}}, ttlHas(api.HealthCritical, true), nil, outcomeNoop},
	}...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := diff(c.d, c.actual)
			if got := kinds(p); !reflect.DeepEqual(got, c.want) {
				t.Errorf("actions %v, want %v", got, c.want)
			}
			if got := p.outcomes[w.Reg.ID]; got != c.outcome {
				t.Errorf("outcome %q, want %q", got, c.outcome)
			}
			// Once the actions are done, nothing is left to do.
			if again := diff(c.d, after(c.d, c.actual)); len(again.actions) != 0 {
				t.Errorf("after the actions, diff still wants %v", kinds(again))
			}
		})
	}
}

func TestByContainer(t *testing.T) {
	// The time of a stop signal comes back from the maintenance reason, for
	// a drcon that restarts while the container drains.
	stopped := time.Date(2026, 1, 1, 12, 0, 3, 5, time.UTC)
	services := map[string]*api.AgentService{
		"a": {ID: "a", Service: "web", Port: 1, Meta: map[string]string{metaContainer: "c1", metaHash: "h"}},
		"b": {ID: "b", Service: "web", Port: 2, Meta: map[string]string{metaContainer: "c2"}},
		"x": {ID: "x", Service: "foreign"},
	}
	checks := map[string]*api.AgentCheck{
		"service:a":              {CheckID: "service:a", ServiceID: "a", Status: "passing"},
		"_service_maintenance:b": {CheckID: "_service_maintenance:b", ServiceID: "b", Status: "critical", Notes: stoppingReason(stopped)},
		"service:x":              {CheckID: "service:x", ServiceID: "x", Status: "passing"},
		"service:gone":           {CheckID: "service:gone", ServiceID: "gone"},
	}
	got := byContainer(services, checks)
	want := map[string]map[string]actualService{
		"c1": {"a": {Name: "web", Port: 1, Hash: "h", Checks: map[string]string{"service:a": "passing"}}},
		"c2": {"b": {Name: "web", Port: 2, Maint: true, Stopping: stopped, Checks: map[string]string{}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("byContainer = %+v\nwant %+v", got, want)
	}
}

func TestForeignTTL(t *testing.T) {
	for _, tc := range []struct {
		status, output string
		foreign        bool
	}{
		{api.HealthPassing, outputRunning, false},
		{api.HealthPassing, "", false}, // as registered
		{api.HealthCritical, "TTL expired", false},
		{api.HealthCritical, "TTL expired (last output before timeout follows): " + outputRunning, false},
		{api.HealthCritical, "TTL expired (last output before timeout follows): app: ok", true},
		{api.HealthCritical, "", true}, // drcon never writes critical
		{api.HealthWarning, "app: slow", true},
		{api.HealthPassing, "app: ok", true},
	} {
		c := &api.AgentCheck{CheckID: "service:h:web:80", Type: "ttl", Status: tc.status, Output: tc.output}
		if got := foreignTTL(c); got != tc.foreign {
			t.Errorf("%s %q: foreign %v, want %v", tc.status, tc.output, got, tc.foreign)
		}
	}
	if foreignTTL(&api.AgentCheck{CheckID: "drcon-health:h:web:80", Type: "ttl", Status: api.HealthCritical, Output: "x"}) {
		t.Error("drcon's Docker health check is drcon's")
	}
}
