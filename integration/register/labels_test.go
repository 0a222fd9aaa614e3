package register

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/hashicorp/consul/api"
)

// byName indexes services by name.
func byName(s []*api.AgentService) map[string]*api.AgentService {
	out := map[string]*api.AgentService{}
	for _, v := range s {
		out[v.Service] = v
	}
	return out
}

// TestMultiPortAndUDP: several ports give NAME-PORT services; a UDP port
// gets the :udp ID suffix and the udp tag, also with SERVICE_ID (PR #599).
func TestMultiPortAndUDP(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "--expose", "81", "--expose", "53/udp", "--expose", "53",
		"-p", "127.0.0.1::80", "-p", "127.0.0.1::81", "-p", "127.0.0.1::53/udp", "-p", "127.0.0.1::53",
		"--label", "SERVICE_53_ID=dns", "--label", "SERVICE_53_NAME=dns")
	got := byName(ofContainer(e.waitServices("four services", count(4)), id))
	for _, name := range []string{"drcon-whoami-80", "drcon-whoami-81", "dns"} {
		if got[name] == nil {
			t.Fatalf("no service %q in %v", name, got)
		}
	}
	if p := e.hostPort(id, "81/tcp"); got["drcon-whoami-81"].Port != p {
		t.Errorf("port 81 registered at %d, published at %d", got["drcon-whoami-81"].Port, p)
	}
	var udp, tcp *api.AgentService
	for _, s := range e.services() {
		switch s.ID {
		case "dns:udp":
			udp = s
		case "dns":
			tcp = s
		}
	}
	if udp == nil || tcp == nil {
		t.Fatalf("want services dns and dns:udp, have %v", e.services())
	}
	if !slices.Contains(udp.Tags, "udp") || slices.Contains(tcp.Tags, "udp") {
		t.Errorf("udp tag: udp %v, tcp %v", udp.Tags, tcp.Tags)
	}
	if udp.Port != e.hostPort(id, "53/udp") || tcp.Port != e.hostPort(id, "53/tcp") {
		t.Errorf("dns ports %d/%d", tcp.Port, udp.Port)
	}
}

// TestPrecedence: a label beats a variable, a port-specific key beats a
// generic one whatever its source, an empty value is unset, and other keys
// become meta, a key Consul would refuse being dropped.
func TestPrecedence(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80",
		"-e", "SERVICE_NAME=from-env", "--label", "SERVICE_NAME=from-label",
		"--label", "SERVICE_TAGS=generic", "-e", "SERVICE_80_TAGS=port\\,one,two",
		"-e", "SERVICE_REGION=eu", "--label", "SERVICE_REGION=",
		"--label", "SERVICE_bad.key=x")
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	if svc.Service != "from-label" {
		t.Errorf("name %q, want from-label", svc.Service)
	}
	if !slices.Equal(svc.Tags, []string{"port,one", "two"}) {
		t.Errorf("tags %q", svc.Tags)
	}
	if svc.Meta["region"] != "eu" {
		t.Errorf("meta %v", svc.Meta)
	}
	if _, ok := svc.Meta["bad.key"]; ok {
		t.Errorf("a meta key Consul refuses was sent")
	}
}

// TestTagTemplates: registrator 7.4's tag templates, in the block's tags
// and (as in fayrus/registrator) in SERVICE_TAGS, run over the container's
// inspect data with 7.4's functions; one that fails is dropped and the
// service still registers (registrator exited).
func TestTagTemplates(t *testing.T) {
	e := newEnv(t)
	e.cfg.Tags = []string{"img={{ .Config.Image }}", `repo={{ splitIndex 0 ":" .Config.Image }}`, "{{ .Nope }}"}
	e.start()
	id := e.run(e.image, "-p", "127.0.0.1::80", "--hostname", "tagged-host", "--label", "team=payments",
		"--label", `SERVICE_TAGS=web,host-{{ .Config.Hostname }},{{ mIndex "team" .Config.Labels | toUpper }}`)
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	repo, _, _ := strings.Cut(e.image, ":")
	want := []string{"web", "host-tagged-host", "PAYMENTS", "img=" + e.image, "repo=" + repo}
	if !slices.Equal(svc.Tags, want) {
		t.Errorf("tags %q, want %q", svc.Tags, want)
	}
}

// TestIgnoreAndExplicit: SERVICE_IGNORE (any value) and SERVICE_<port>_IGNORE;
// with explicit only named ports register.
func TestIgnoreAndExplicit(t *testing.T) {
	e := newEnv(t)
	e.cfg.Explicit = true
	e.start()
	e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_NAME=ignored", "--label", "SERVICE_IGNORE=false")
	e.run(e.image, "-p", "127.0.0.1::80") // no name: explicit skips it
	partial := e.run(e.image, "--expose", "81", "-p", "127.0.0.1::80", "-p", "127.0.0.1::81",
		"--label", "SERVICE_NAME=part", "--label", "SERVICE_81_IGNORE=1")
	named := e.run(e.image, "--expose", "81", "-p", "127.0.0.1::80", "-p", "127.0.0.1::81", "--label", "SERVICE_81_NAME=only81")
	last := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_NAME=last")
	got := e.waitServices("the last container registered", func(s map[string]*api.AgentService) bool {
		return len(ofContainer(s, last)) == 1
	})
	if len(got) != 3 {
		t.Fatalf("want part-80, only81 and last, have %v", got)
	}
	if s := ofContainer(got, partial); len(s) != 1 || s[0].Service != "part-80" {
		t.Errorf("partially ignored container: %v", s)
	}
	if s := ofContainer(got, named); len(s) != 1 || s[0].Service != "only81" {
		t.Errorf("explicit container: %v", s)
	}
}

// TestHostNetwork: with host networking only the ports SERVICE_<port>_*
// declares register, not the image's EXPOSE 80 (registrator #608); the
// port left out still counts for the -PORT suffix, as registrator, which
// registered it, counted it: SERVICE_NAME=hostapi on a container exposing
// 80 and P registers hostapi-P.
func TestHostNetwork(t *testing.T) {
	e := newEnv(t)
	e.start()
	port, port2 := testenv.FreePort(t), testenv.FreePort(t)
	p, p2 := strconv.Itoa(port), strconv.Itoa(port2)
	id := e.run(e.image, "--network", "host", "-e", "ADDR=127.0.0.1:"+p, "--label", "SERVICE_"+p+"_NAME=hostweb")
	id2 := e.run(e.image, "--network", "host", "--expose", p2, "-e", "ADDR=127.0.0.1:"+p2,
		"--label", "SERVICE_NAME=hostapi", "--label", "SERVICE_"+p2+"_CHECK_TCP=true")
	all := e.waitServices("registered", count(2))
	got := ofContainer(all, id)
	if len(got) != 1 || got[0].Service != "hostweb" || got[0].Port != port || !strings.HasSuffix(got[0].ID, ":"+p) {
		t.Fatalf("registered %+v", got)
	}
	if got := ofContainer(all, id2); len(got) != 1 || got[0].Service != "hostapi-"+p2 || got[0].Port != port2 {
		t.Fatalf("registered %+v, want hostapi-%s on port %s alone", got, p2, p2)
	}
}

// TestInternal: internal mode registers the container's address on its
// network and the container port, published or not. The address is only
// compared, never called.
func TestInternal(t *testing.T) {
	e := newEnv(t)
	e.cfg.Internal = true
	e.start()
	id := e.run(e.image)
	svc := ofContainer(e.waitServices("registered", count(1)), id)[0]
	want := e.inspect(id).NetworkSettings.Networks["bridge"].IPAddress
	if svc.Address != want || svc.Port != 80 {
		t.Fatalf("registered %s:%d, want %s:80", svc.Address, svc.Port, want)
	}
}

// TestSharedNetworkNamespace: a container in another's network namespace
// (--network container:X) registers the ports X publishes at their
// bindings, and its other exposed ports at X's address, as registrator
// did. The address is only compared, never called.
func TestSharedNetworkNamespace(t *testing.T) {
	e := newEnv(t)
	e.start()
	// The sidecars' servers move off port 80, their image's EXPOSE, which
	// their owners' servers hold.
	published := e.run(e.image, "-p", "127.0.0.1::80", "--label", "SERVICE_IGNORE=1")
	unpublished := e.run(e.image, "--label", "SERVICE_IGNORE=1")
	side1 := e.run(e.image, "--network", "container:"+published, "-e", "ADDR=:81", "--label", "SERVICE_NAME=side1")
	side2 := e.run(e.image, "--network", "container:"+unpublished, "-e", "ADDR=:81", "--label", "SERVICE_NAME=side2")
	got := e.waitServices("registered", count(2))
	if s := ofContainer(got, side1); len(s) != 1 || s[0].Address != "127.0.0.1" || s[0].Port != e.hostPort(published, "80/tcp") {
		t.Errorf("port the owner publishes: %+v", s)
	}
	want := e.inspect(unpublished).NetworkSettings.Networks["bridge"].IPAddress
	if s := ofContainer(got, side2); len(s) != 1 || s[0].Address != want || s[0].Port != 80 {
		t.Errorf("port the owner does not publish: %+v, want %s:80", s, want)
	}
}

// TestIPFromLabel: use_ip_from_label registers the address a label holds:
// an IP address without its CIDR suffix, or a DNS name as written, as
// registrator did. An unspecified address, which Consul refuses for a
// service (the container was not registered at all), is passed over for
// the binding's. The addresses are only compared, never called.
func TestIPFromLabel(t *testing.T) {
	e := newEnv(t)
	e.cfg.UseIPFromLabel = "addr"
	e.start()
	ip := e.run(e.image, "-p", "127.0.0.1::80", "--label", "addr=10.9.8.7/24")
	name := e.run(e.image, "-p", "127.0.0.1::80", "--label", "addr=svc1.example.internal")
	unspecified := e.run(e.image, "-p", "127.0.0.1::80", "--label", "addr=0.0.0.0")
	got := e.waitServices("registered", count(3))
	if s := ofContainer(got, ip); len(s) != 1 || s[0].Address != "10.9.8.7" {
		t.Errorf("IP label: %+v", s)
	}
	if s := ofContainer(got, name); len(s) != 1 || s[0].Address != "svc1.example.internal" {
		t.Errorf("DNS name label: %+v", s)
	}
	if s := ofContainer(got, unspecified); len(s) != 1 || s[0].Address != "127.0.0.1" {
		t.Errorf("unspecified address label: %+v", s)
	}
}

// TestNetworkConnect: with network set, a container registers once it is
// connected to that network and goes when it is disconnected: network
// events make drcon inspect it again.
func TestNetworkConnect(t *testing.T) {
	e := newEnv(t)
	network := "drcon-reg-" + e.runID
	e.must("network", "create", "--label", testLabel+"=register", network)
	t.Cleanup(func() { _, _ = e.docker("network", "rm", network) })
	e.cfg.Internal, e.cfg.Network = true, network
	e.start()
	id := e.run(e.image)
	e.must("network", "connect", network, id)
	svc := ofContainer(e.waitServices("registered on the network", count(1)), id)[0]
	if want := e.inspect(id).NetworkSettings.Networks[network].IPAddress; svc.Address != want || want == "" {
		t.Fatalf("registered %s, want %s", svc.Address, want)
	}
	e.must("network", "disconnect", network, id)
	e.waitServices("deregistered when it left the network", count(0))
}

// TestSettingsAsWritten: settings as they get written reach Consul as
// meant. A value's surrounding whitespace (an env file's trailing space) is
// trimmed, where registrator registered the service " web "; SERVICE_80_,
// with no key, is no meta "80_" of every service; a port's own check
// replaces the check set for every port, whatever its kind (registrator gave
// port 81 the HTTP check).
func TestSettingsAsWritten(t *testing.T) {
	e := newEnv(t)
	e.start()
	id := e.run(e.image, "--expose", "81", "-p", "127.0.0.1::80", "-p", "127.0.0.1::81",
		"--label", "SERVICE_NAME= web ", "-e", "SERVICE_CHECK_INTERVAL=2s ", "--label", "SERVICE_80_=x",
		"--label", "SERVICE_CHECK_HTTP=/health", "--label", "SERVICE_81_CHECK_TCP=true")
	got := byName(ofContainer(e.waitServices("registered", count(2)), id))
	web80, web81 := got["web-80"], got["web-81"]
	if web80 == nil || web81 == nil {
		t.Fatalf("want services web-80 and web-81, have %v", got)
	}
	for _, s := range got {
		if _, ok := s.Meta["80_"]; ok {
			t.Errorf("service %s has the meta key 80_: %v", s.ID, s.Meta)
		}
	}
	// The agent's check list shows each check's type and interval.
	var checks map[string]struct{ Type, Interval string }
	if _, err := e.api.Raw().Query("/v1/agent/checks", &checks, nil); err != nil {
		t.Fatal(err)
	}
	for svc, want := range map[*api.AgentService]string{web80: "http", web81: "tcp"} {
		c := checks["service:"+svc.ID]
		if c.Type != want || c.Interval != "2s" {
			t.Errorf("check of %s: %+v, want a %s check every 2s", svc.Service, c, want)
		}
	}
}
