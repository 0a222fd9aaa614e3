package register

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// agentAPI is what a registrator needs of the Consul agent it registers
// with.
type agentAPI interface {
	// self is the agent's address and node ID.
	self(ctx context.Context) (agentInfo, error)
	// owned lists the services with owner's drcon-owner meta, and only
	// container's when that is not "".
	owned(ctx context.Context, owner, container string) (map[string]*api.AgentService, error)
	checks(ctx context.Context) (map[string]*api.AgentCheck, error)
	register(ctx context.Context, reg *api.AgentServiceRegistration) error
	// deregister succeeds when the service is already gone.
	deregister(ctx context.Context, id string) error
	maintenance(ctx context.Context, id string, on bool, reason string) error
	updateTTL(ctx context.Context, check, status, output string) error
	// checksByID are the agent's checks with these IDs.
	checksByID(ctx context.Context, ids []string) (map[string]*api.AgentCheck, error)
	// waitService blocks until the agent's definition of service id
	// differs from hash, or a while passes, and returns its hash; found is
	// false when the agent has no such service.
	waitService(ctx context.Context, id, hash string) (next string, found bool, err error)
}

// agentWait is how long waitService blocks: short enough that a connection
// that died silently is found out.
const agentWait = time.Minute

// agent is agentAPI over consul/api.
type agent struct {
	c *api.Client
}

func opts(ctx context.Context) *api.QueryOptions { return (&api.QueryOptions{}).WithContext(ctx) }

// agentInfo is who the agent is. An agent that keeps its data directory
// keeps its node ID and the services registered with it across restarts;
// one that lost them (a dev agent, a wiped directory) has a new node ID.
type agentInfo struct {
	addr, nodeID string
}

func (a agent) self(ctx context.Context) (agentInfo, error) {
	// The agent answers /v1/agent/self from memory, so this also tells
	// whether the agent is up without bothering the servers.
	var out struct {
		Config struct{ NodeID string }
		Member struct{ Addr string }
	}
	if _, err := a.c.Raw().Query("/v1/agent/self", &out, opts(ctx)); err != nil {
		return agentInfo{}, fmt.Errorf("consul agent self: %w", err)
	}
	return agentInfo{addr: out.Member.Addr, nodeID: out.Config.NodeID}, nil
}

func ownerFilter(owner, container string) string {
	f := fmt.Sprintf("Meta[%q] == %s", metaOwner, strconv.Quote(owner))
	if container != "" {
		f += fmt.Sprintf(" and Meta[%q] == %s", metaContainer, strconv.Quote(container))
	}
	return f
}

func (a agent) owned(ctx context.Context, owner, container string) (map[string]*api.AgentService, error) {
	s, err := a.c.Agent().ServicesWithFilterOpts(ownerFilter(owner, container), opts(ctx))
	if err != nil {
		return nil, fmt.Errorf("list the agent's services: %w", err)
	}
	return s, nil
}

func (a agent) checks(ctx context.Context) (map[string]*api.AgentCheck, error) {
	c, err := a.c.Agent().ChecksWithFilterOpts(`ServiceID != ""`, opts(ctx))
	if err != nil {
		return nil, fmt.Errorf("list the agent's checks: %w", err)
	}
	return c, nil
}

func (a agent) register(ctx context.Context, reg *api.AgentServiceRegistration) error {
	// Replacing the checks removes those a changed registration no longer
	// has; the service's state is otherwise kept.
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	return a.c.Agent().ServiceRegisterOpts(reg, opts)
}

func (a agent) deregister(ctx context.Context, id string) error {
	err := a.c.Agent().ServiceDeregisterOpts(id, opts(ctx))
	if isNotFound(err) {
		return nil
	}
	return err
}

func (a agent) maintenance(ctx context.Context, id string, on bool, reason string) error {
	if on {
		return a.c.Agent().EnableServiceMaintenanceOpts(id, reason, opts(ctx))
	}
	return a.c.Agent().DisableServiceMaintenanceOpts(id, opts(ctx))
}

func (a agent) updateTTL(ctx context.Context, check, status, output string) error {
	return a.c.Agent().UpdateTTLOpts(check, output, status, opts(ctx))
}

func (a agent) checksByID(ctx context.Context, ids []string) (map[string]*api.AgentCheck, error) {
	terms := make([]string, len(ids))
	for i, id := range ids {
		terms[i] = "CheckID == " + strconv.Quote(id)
	}
	checks, err := a.c.Agent().ChecksWithFilterOpts(strings.Join(terms, " or "), opts(ctx))
	if err != nil {
		return nil, fmt.Errorf("read the agent's checks: %w", err)
	}
	return checks, nil
}

func (a agent) waitService(ctx context.Context, id, hash string) (string, bool, error) {
	// The agent answers from its own state: no servers, no leader needed.
	q := &api.QueryOptions{WaitHash: hash, WaitTime: agentWait}
	_, meta, err := a.c.Agent().Service(id, q.WithContext(ctx))
	if isNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("watch service %s on the agent: %w", id, err)
	}
	return meta.LastContentHash, true, nil
}

func isNotFound(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound
}

// refusedByConsul reports whether every error in err is the agent refusing
// a write: an answer with an error status, but 429 and 503 (limits and
// outages that pass). A registration never reaches the servers before the
// agent answers, so its 500 is a refusal too (Consul answers "Scripts are
// disabled" so): trying again without a change to the container cannot
// cure it.
func refusedByConsul(err error) bool {
	if err == nil {
		return false
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !refusedByConsul(e) {
				return false
			}
		}
		return true
	}
	var se api.StatusError
	return errors.As(err, &se) && se.Code != http.StatusTooManyRequests && se.Code != http.StatusServiceUnavailable
}

// isStatus reports whether err is an answer of the agent with an error
// status, rather than a failure to reach it.
func isStatus(err error) bool {
	var se api.StatusError
	return errors.As(err, &se)
}
