package register

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	docker "github.com/fsouza/go-dockerclient"
	"github.com/hashicorp/consul/api"
)

// service is one registration drcon wants on the Consul agent.
type service struct {
	Reg *api.AgentServiceRegistration
	// Hash fingerprints Reg without the statuses of its checks, which
	// change by updates, not by registering again.
	Hash string
	// Maint is why the service is in maintenance mode (critical, so that
	// load balancers drain it); "" when it takes traffic.
	Maint string
	// TTLs are the TTL checks whose status drcon sends.
	TTLs []ttlCheck
}

// identity is who registers: one registrator block on one Docker engine.
type identity struct {
	// Host is the Docker engine's name (docker info), the HOST of service
	// IDs: stable across restarts of drcon and of its container, and the
	// same for every block that watches that engine.
	Host string
	// Owner is the value of the drcon-owner meta: host and block.
	Owner string
	// NodeAddr is the Consul agent's address: checks of a port bound to a
	// wildcard address connect there, as Consul's own address for a
	// service without one is the node's.
	NodeAddr string
}

// warning is a problem with one container's settings. The container still
// registers what it can.
type warning struct {
	src string // the label or variable at fault; "" for the container
	msg string
}

func (w warning) String() string {
	if w.src == "" {
		return w.msg
	}
	return w.src + ": " + w.msg
}

// buildServices turns the inspect result of a running container into the
// services it should have, in port order. netc is the container whose
// network namespace c shares (--network container:X), if any.
func buildServices(c, netc *docker.Container, s settings, id identity) ([]*service, []warning) {
	var env []string
	var labels map[string]string
	if c.Config != nil {
		env, labels = c.Config.Env, c.Config.Labels
	}
	m := readMetadata(env, labels)
	if v := m.generic["ignore"]; v.v != "" {
		return nil, ignoresAllTheSame(v)
	}
	eps, group, warns := endpoints(c, netc, s, m, id.NodeAddr)
	warns = append(warns, m.unused...)
	var out []*service
	seen := map[string]bool{}
	for _, ep := range eps {
		v := m.forPort(ep.port)
		if v.get("ignore") != "" {
			warns = append(warns, ignoresAllTheSame(v["ignore"])...)
			continue
		}
		name, ok := serviceName(c, m, ep.port, group, s.explicit)
		if !ok {
			continue
		}
		svcID, w := serviceID(c, m, ep, group, id.Host)
		warns = append(warns, w...)
		if seen[svcID] {
			warns = append(warns, warning{msg: fmt.Sprintf("two ports would register service ID %q; port %d/%s skipped", svcID, ep.port, ep.proto)})
			continue
		}
		seen[svcID] = true
		svc, w := newService(c, v, ep, s, id, name, svcID)
		warns = append(warns, w...)
		out = append(out, svc)
	}
	return out, warns
}

// ignoresAllTheSame warns of a SERVICE_IGNORE that reads as false, or is
// blank: as in registrator, any value ignores, and the user likely meant
// otherwise.
func ignoresAllTheSame(v value) []warning {
	if off, err := strconv.ParseBool(v.v); (err != nil || off) && strings.TrimSpace(v.v) != "" {
		return nil
	}
	return []warning{{src: v.src, msg: fmt.Sprintf("%q ignores all the same, as in registrator, where any value does; remove it to register", v.v)}}
}

// serviceName follows registrator: SERVICE_<port>_NAME as given, else
// SERVICE_NAME or the default name, suffixed with -<port> when the
// container has several ports. With explicit, a port without either name
// is not registered.
func serviceName(c *docker.Container, m metadata, port int, group, explicit bool) (string, bool) {
	if n := m.ports[port]["name"].v; n != "" {
		return n, true
	}
	name := m.generic["name"].v
	if name == "" {
		if explicit {
			return "", false
		}
		name = defaultName(c)
	}
	if group {
		name += "-" + strconv.Itoa(port)
	}
	return name, true
}

// serviceID is HOST:CONTAINER:PORT, or SERVICE_<port>_ID, or SERVICE_ID
// (with :PORT when the container has several ports, so that they do not
// overwrite each other). Non-TCP ports get :udp or :sctp after any of
// these, so that 53/tcp and 53/udp never collide (registrator PR #599).
func serviceID(c *docker.Container, m metadata, ep endpoint, group bool, host string) (string, []warning) {
	port := strconv.Itoa(ep.port)
	id := host + ":" + containerName(c) + ":" + port
	var warns []warning
	custom, src := m.ports[ep.port]["id"], true
	if custom.v == "" {
		custom, src = m.generic["id"], false
	}
	switch {
	case custom.v == "":
	case strings.ContainsAny(custom.v, "/?#%"):
		warns = append(warns, warning{src: custom.src, msg: fmt.Sprintf("%q cannot be a service ID (it has '/', '?', '#' or '%%'); using %q", custom.v, id)})
	case !src && group:
		id = custom.v + ":" + port
	default:
		id = custom.v
	}
	if ep.proto != "tcp" {
		id += ":" + ep.proto
	}
	return id, warns
}

func newService(c *docker.Container, v view, ep endpoint, s settings, id identity, name, svcID string) (*service, []warning) {
	tags, warns := serviceTags(c, v, s.tags, ep.proto)
	meta, w := userMeta(v)
	warns = append(warns, w...)
	meta[metaOwner] = id.Owner
	meta[metaContainer] = c.ID
	reg := &api.AgentServiceRegistration{
		ID:      svcID,
		Name:    name,
		Tags:    tags,
		Port:    ep.hostPort,
		Address: ep.address,
		Meta:    meta,
	}
	svc := &service{Reg: reg}
	chk, ttl, w := userCheck(v, svcID, ep.checkHost, ep.hostPort)
	warns = append(warns, w...)
	if chk != nil {
		reg.Checks = append(reg.Checks, chk)
	}
	if ttl != nil {
		svc.TTLs = append(svc.TTLs, *ttl)
	}
	if s.health && hasHealthcheck(c) {
		after, w := durationKey(v, "check_deregister_after")
		if chk == nil {
			// userCheck read it, and warned, only for a check it built.
			warns = append(warns, w...)
		}
		hc, t := dockerHealth(svcID, c.State.Health.Status, after)
		reg.Checks = append(reg.Checks, hc)
		svc.TTLs = append(svc.TTLs, t)
	}
	svc.Hash = hashRegistration(reg)
	meta[metaHash] = svc.Hash
	return svc, warns
}

// hasHealthcheck reports whether Docker runs a HEALTHCHECK in c.
func hasHealthcheck(c *docker.Container) bool {
	if c.State.Health.Status != "" {
		return true
	}
	hc := (*docker.HealthConfig)(nil)
	if c.Config != nil {
		hc = c.Config.Healthcheck
	}
	return hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
}

// hashRegistration fingerprints what a registration defines. Check
// statuses are left out: they are only initial values.
func hashRegistration(reg *api.AgentServiceRegistration) string {
	r := *reg
	r.Meta = map[string]string{}
	for k, v := range reg.Meta {
		if k != metaHash {
			r.Meta[k] = v
		}
	}
	r.Checks = nil
	for _, c := range reg.Checks {
		cc := *c
		cc.Status = ""
		r.Checks = append(r.Checks, &cc)
	}
	b, err := json.Marshal(&r)
	if err != nil {
		// Marshalling plain strings, numbers and maps cannot fail; a hash
		// that never matches only costs one registration.
		return "unhashable"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func dedupe(tags []string) []string {
	var out []string
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
