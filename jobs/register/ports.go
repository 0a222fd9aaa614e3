package register

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"

	docker "github.com/fsouza/go-dockerclient"
)

// endpoint is one container port that becomes a service, and where clients
// and checks reach it.
type endpoint struct {
	port      int    // container port: the <port> of SERVICE_<port>_* and of the ID
	proto     string // tcp, udp or sctp
	address   string // registered address; "" lets Consul use the node's
	hostPort  int    // registered port
	checkHost string // address checks connect to
}

// endpoints finds the ports of a running container that become services.
//
//   - Host networking: the ports that SERVICE_<port>_* keys declare, at
//     host_ip or the node's address (not every EXPOSE: registrator #608).
//   - internal: every exposed port at the container's address on one network.
//   - otherwise: every published port at its binding. The binding's own
//     address is registered when it is specific, host_ip replaces it, and a
//     wildcard binding (0.0.0.0, ::) registers no address, so that Consul
//     answers with the node's.
//
// A container in another's network namespace (--network container:X) takes
// its networks and bindings from X, given as netc; its exposed ports that X
// does not publish are registered at X's address.
//
// group reports whether the container has several ports, as registrator
// counted them for the -PORT suffix of service names.
func endpoints(c, netc *docker.Container, s settings, m metadata, nodeAddr string) (eps []endpoint, group bool, warns []warning) {
	ns, mode := c, networkMode(c)
	if target, ok := strings.CutPrefix(mode, "container:"); ok {
		if netc == nil {
			return nil, false, []warning{{msg: fmt.Sprintf("network namespace owner %s is gone", shortID(target))}}
		}
		ns, mode = netc, networkMode(netc)
	}
	counted := -1
	switch {
	case mode == "host":
		eps, counted, warns = hostEndpoints(c, s, m, nodeAddr)
	case s.internal:
		eps, warns = internalEndpoints(c, ns, mode, s)
	default:
		eps, warns = publishedEndpoints(c, ns, s, nodeAddr)
	}
	if mode != "host" {
		warns = append(warns, unregistered(c, ns, s, m, eps, len(warns) > 0)...)
	}
	if s.ipFromLabel != "" && c.Config != nil {
		if raw, ok := c.Config.Labels[s.ipFromLabel]; ok {
			if addr, ok := labelAddress(raw); !ok {
				warns = append(warns, warning{src: fmt.Sprintf("label %q", s.ipFromLabel),
					msg: fmt.Sprintf("%q is neither a specific IP address nor a DNS name; using the address found otherwise", raw)})
			} else {
				for i := range eps {
					eps[i].address, eps[i].checkHost = addr, addr
				}
			}
		}
	}
	sort.Slice(eps, func(i, j int) bool {
		if eps[i].port != eps[j].port {
			return eps[i].port < eps[j].port
		}
		return eps[i].proto < eps[j].proto
	})
	if counted < 0 {
		counted = len(eps)
	}
	return eps, counted > 1, warns
}

// labelAddress is the address a use_ip_from_label label gives: an IP
// address, without a CIDR suffix, or a DNS name, which registrator
// registered as written and Consul takes as a service address. An
// unspecified address (0.0.0.0, ::) is none: Consul would refuse every
// service of the container.
func labelAddress(raw string) (string, bool) {
	host, _, _ := strings.Cut(raw, "/")
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), !ip.IsUnspecified()
	}
	return host, isDNSName(host)
}

// isDNSName: labels of letters, digits and inner hyphens, at most 63
// bytes each and 253 in all, the last not all digits (so that a mistyped
// IPv4 address such as 10.0.0.300 is no name).
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil
}

func networkMode(c *docker.Container) string {
	if c.HostConfig == nil {
		return ""
	}
	return c.HostConfig.NetworkMode
}

// exposed lists the container's ports by number and protocol: its EXPOSEd
// ones and, when it owns its network namespace, those Docker reports in
// NetworkSettings.Ports.
func exposed(c, ns *docker.Container) []docker.Port {
	set := map[docker.Port]bool{}
	if c.Config != nil {
		for p := range c.Config.ExposedPorts {
			set[p] = true
		}
	}
	if ns == c && c.NetworkSettings != nil {
		for p := range c.NetworkSettings.Ports {
			set[p] = true
		}
	}
	out := make([]docker.Port, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	return out
}

func parsePort(p docker.Port) (int, string, bool) {
	n, err := strconv.Atoi(p.Port())
	if err != nil || n < 1 || n > 65535 {
		return 0, "", false
	}
	return n, strings.ToLower(p.Proto()), true
}

// hostEndpoints are the declared ports of a container on the host's
// network. An exposed port that no key declares is named in a warning:
// registrator registered it, and a migration would lose it in silence. One
// that SERVICE_<port>_IGNORE leaves out is not: it says what it wants.
// counted is the number of ports registered or left out either way, so
// that names keep registrator's -PORT suffix: EXPOSE 80 443 with only port
// 80 declared registers web-80, as registrator did.
func hostEndpoints(c *docker.Container, s settings, m metadata, nodeAddr string) (eps []endpoint, counted int, warns []warning) {
	protos := map[int][]string{}
	var undeclared []string
	ignored := 0
	declared := m.declaredPorts()
	for _, p := range exposed(c, nil) {
		n, proto, ok := parsePort(p)
		switch {
		case !ok:
		case slices.Contains(declared, n):
			protos[n] = append(protos[n], proto)
		case m.ports[n]["ignore"].v != "":
			ignored++
		default:
			undeclared = append(undeclared, string(p))
		}
	}
	if len(undeclared) > 0 {
		sort.Strings(undeclared)
		warns = append(warns, warning{msg: fmt.Sprintf("host networking: exposed port(s) %s not registered; declare each with SERVICE_<port>_NAME "+
			"(registrator registered every EXPOSE, #608)", strings.Join(undeclared, ", "))})
	}
	if v, ok := mention(m.generic); ok && len(declared) == 0 && len(undeclared) == 0 && ignored == 0 {
		warns = append(warns, warning{src: v.src, msg: "host networking: no port declared, so nothing registers; declare each of the container's ports with SERVICE_<port>_NAME"})
	}
	check := s.hostIP
	if check == "" {
		check = nodeAddr
	}
	for _, port := range declared {
		ps := protos[port]
		if len(ps) == 0 {
			ps = []string{"tcp"}
		}
		for _, proto := range ps {
			eps = append(eps, endpoint{port: port, proto: proto, address: s.hostIP, hostPort: port, checkHost: check})
		}
	}
	return eps, len(eps) + len(undeclared) + ignored, warns
}

// unregistered names the SERVICE_* settings of a container that is not on
// the host's network and that register nothing, where registrator passed
// over them with a log line at most: a port key of a port the container
// does not have (the published port's number, often, instead of the
// container's) or does not publish, and, when no port registers and nothing
// else (explained) says why, its other keys. A container without a network
// gets one warning for all of them.
func unregistered(c, ns *docker.Container, s settings, m metadata, eps []endpoint, explained bool) []warning {
	if networkMode(ns) == "none" {
		// No network, so no address, in internal mode too; publishing or
		// internal would not help, so one warning says why.
		v, ok := mention(m.generic)
		for _, p := range m.declaredPorts() {
			if !ok {
				v, ok = mention(m.ports[p])
			}
		}
		if !ok || explained {
			return nil
		}
		return []warning{{src: v.src, msg: "the container has no network (--network none), so nothing registers"}}
	}
	has := map[int]bool{}
	var ports []string
	for _, p := range exposed(c, ns) {
		if n, _, ok := parsePort(p); ok {
			has[n] = true
			ports = append(ports, string(p))
		}
	}
	sort.Strings(ports)
	registered := map[int]bool{}
	for _, ep := range eps {
		registered[ep.port] = true
	}
	var warns []warning
	for _, p := range m.declaredPorts() {
		keys := m.ports[p]
		if registered[p] || keys["ignore"].v != "" {
			continue
		}
		v, _ := mention(keys)
		switch {
		case !has[p] && len(ports) == 0:
			warns = append(warns, warning{src: v.src, msg: fmt.Sprintf("the container has no port %d, nor any other; ignored", p)})
		case !has[p]:
			warns = append(warns, warning{src: v.src, msg: fmt.Sprintf("the container has no port %d (it has %s): a SERVICE_<port>_ key takes "+
				"the port inside the container, not the published one; ignored", p, strings.Join(ports, ", "))})
		case !s.internal:
			warns = append(warns, warning{src: v.src, msg: fmt.Sprintf("port %d is not published, so it registers nothing (publish it, or set internal)", p)})
		}
	}
	if len(eps) > 0 || len(warns) > 0 || explained {
		return warns
	}
	switch v, ok := mention(m.generic); {
	case !ok:
	case len(ports) == 0:
		warns = append(warns, warning{src: v.src, msg: "the container has no port, so nothing registers (registrator registers ports only)"})
	case !s.internal:
		warns = append(warns, warning{src: v.src, msg: fmt.Sprintf("none of the container's ports (%s) is published, so nothing registers "+
			"(publish one, or set internal)", strings.Join(ports, ", "))})
	}
	return warns
}

func internalEndpoints(c, ns *docker.Container, mode string, s settings) ([]endpoint, []warning) {
	addr, w := containerAddress(ns, mode, s)
	if addr == "" {
		return nil, w
	}
	var eps []endpoint
	for _, p := range exposed(c, ns) {
		if n, proto, ok := parsePort(p); ok {
			eps = append(eps, endpoint{port: n, proto: proto, address: addr, hostPort: n, checkHost: addr})
		}
	}
	return eps, w
}

// containerAddress is the container's address on the configured network, or
// else on the network it was started on (HostConfig.NetworkMode), or else on
// the first network by name that has an address of the wanted family. Never
// the deprecated top-level IPAddress, which is empty on user networks.
func containerAddress(ns *docker.Container, mode string, s settings) (string, []warning) {
	family := "IPv4"
	pick := func(n docker.ContainerNetwork) string { return n.IPAddress }
	if s.ipv6 {
		family = "IPv6"
		pick = func(n docker.ContainerNetwork) string { return n.GlobalIPv6Address }
	}
	var networks map[string]docker.ContainerNetwork
	if ns.NetworkSettings != nil {
		networks = ns.NetworkSettings.Networks
	}
	if s.network != "" {
		n, ok := networks[s.network]
		if !ok {
			return "", []warning{{msg: fmt.Sprintf("not attached to network %q", s.network)}}
		}
		if a := pick(n); a != "" {
			return a, nil
		}
		return "", []warning{{msg: fmt.Sprintf("no %s address on network %q", family, s.network)}}
	}
	if mode == "default" || mode == "" {
		mode = "bridge"
	}
	if n, ok := networks[mode]; ok && pick(n) != "" {
		return pick(n), nil
	}
	names := make([]string, 0, len(networks))
	for name := range networks {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if a := pick(networks[name]); a != "" {
			return a, nil
		}
	}
	if len(networks) == 0 || mode == "none" {
		return "", nil
	}
	return "", []warning{{msg: fmt.Sprintf("no %s address on any network", family)}}
}

// publishedEndpoints are the published ports of c. A container in another's
// network namespace (ns) also has its other exposed ports registered at the
// owner's address, as registrator registered them (its "pods", PR #507).
func publishedEndpoints(c, ns *docker.Container, s settings, nodeAddr string) ([]endpoint, []warning) {
	var bindings map[docker.Port][]docker.PortBinding
	if ns.NetworkSettings != nil {
		bindings = ns.NetworkSettings.Ports
	}
	var (
		eps   []endpoint
		warns []warning
		owner *string // the owner's address, once looked up
	)
	for _, p := range exposed(c, ns) {
		n, proto, ok := parsePort(p)
		if !ok {
			continue
		}
		b, hostPort, ok := pickBinding(bindings[p], s.ipv6)
		if !ok && ns != c {
			if owner == nil {
				addr, w := containerAddress(ns, networkMode(ns), s)
				owner, warns = &addr, w
			}
			if *owner != "" {
				eps = append(eps, endpoint{port: n, proto: proto, address: *owner, hostPort: n, checkHost: *owner})
			}
			continue
		}
		if !ok {
			continue // not published: nothing outside the host can reach it
		}
		ep := endpoint{port: n, proto: proto, hostPort: hostPort, address: s.hostIP, checkHost: s.hostIP}
		if ep.address == "" {
			if ip := net.ParseIP(b.HostIP); ip != nil && !ip.IsUnspecified() {
				ep.address, ep.checkHost = ip.String(), ip.String()
			} else {
				ep.checkHost = nodeAddr
			}
		}
		eps = append(eps, ep)
	}
	return eps, warns
}

// pickBinding chooses one of a port's bindings the same way every time:
// those of the wanted address family first, then by address and port.
// Docker lists 0.0.0.0 and :: bindings of one port in no promised order.
func pickBinding(bs []docker.PortBinding, ipv6 bool) (docker.PortBinding, int, bool) {
	type cand struct {
		b      docker.PortBinding
		port   int
		family bool
	}
	var cs []cand
	for _, b := range bs {
		port, err := strconv.Atoi(b.HostPort)
		if err != nil || port < 1 || port > 65535 {
			continue
		}
		isV6 := strings.Contains(b.HostIP, ":")
		cs = append(cs, cand{b: b, port: port, family: isV6 == ipv6})
	}
	if len(cs) == 0 {
		return docker.PortBinding{}, 0, false
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].family != cs[j].family {
			return cs[i].family
		}
		if cs[i].b.HostIP != cs[j].b.HostIP {
			return cs[i].b.HostIP < cs[j].b.HostIP
		}
		return cs[i].port < cs[j].port
	})
	return cs[0].b, cs[0].port, true
}
