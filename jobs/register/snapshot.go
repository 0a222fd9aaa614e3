package register

import (
	"strings"

	"github.com/hashicorp/consul/api"
)

// byContainer groups the agent's services that carry drcon's meta by the
// container behind them, with their checks' statuses and maintenance mode.
// Services without a container meta are not drcon's to manage and are left
// out.
func byContainer(services map[string]*api.AgentService, checks map[string]*api.AgentCheck) map[string]map[string]actualService {
	out := map[string]map[string]actualService{}
	for id, s := range services {
		cid := s.Meta[metaContainer]
		if cid == "" {
			continue
		}
		if out[cid] == nil {
			out[cid] = map[string]actualService{}
		}
		out[cid][id] = actualService{
			Name: s.Service, Address: s.Address, Port: s.Port, Tags: s.Tags,
			Hash: s.Meta[metaHash], Checks: map[string]string{},
		}
	}
	for _, c := range checks {
		s, ok := services[c.ServiceID]
		if !ok {
			continue
		}
		a, ok := out[s.Meta[metaContainer]][c.ServiceID]
		if !ok {
			continue
		}
		if strings.HasPrefix(c.CheckID, maintCheckPrefix) {
			a.Maint, a.Stopping = true, stoppingSince(c.Notes)
		} else {
			a.Checks[c.CheckID] = c.Status
		}
		if foreignTTL(c) {
			if a.Foreign == nil {
				a.Foreign = map[string]bool{}
			}
			a.Foreign[c.CheckID] = true
		}
		out[s.Meta[metaContainer]][c.ServiceID] = a
	}
	return out
}

// foreignTTL reports whether c is a SERVICE_CHECK_TTL check that something
// other than drcon updates, typically the application's own heartbeat
// (registrator left TTL checks to it). drcon only ever writes passing with
// outputRunning; a check is registered passing with no output; Consul's
// expiry keeps the last output after its "TTL expired" text. Any other
// output, or none on a status drcon never writes, is another writer's.
func foreignTTL(c *api.AgentCheck) bool {
	if c.Type != "ttl" || !strings.HasPrefix(c.CheckID, userCheckPrefix) {
		return false
	}
	last, expired := strings.CutPrefix(c.Output, "TTL expired")
	last = strings.TrimPrefix(last, " (last output before timeout follows): ")
	switch last {
	case outputRunning:
		return false
	case "":
		return !expired && c.Status != api.HealthPassing
	}
	return true
}
