package compat

import (
	"encoding/base64"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// seedKV is the KV state: config trees, folders, values in every format the
// parse functions read, an empty value, and a key that is both a value and
// a folder (explode's conflict).
var seedKV = map[string]string{
	"app/config/name":         "drcon",
	"app/config/port":         "8080",
	"app/config/empty":        "",
	"app/config/html":         `<a href="x">&amp;</a>`,
	"app/config/multi":        "line one\nline two\n",
	"app/folder/":             "",
	"app/folder/sub/leaf":     "leaf-value",
	"app/folder/other":        "other-value",
	"app/json":                `{"name":"web","ports":[80,443],"nested":{"a":"b"},"html":"<&>"}`,
	"app/flatjson":            `{"a/b":"1","a/c":"2","d":"3"}`,
	"app/yaml":                "name: web\nports:\n  - 80\n  - 443\nnested:\n  a: b\n",
	"app/num/int":             "42",
	"app/num/neg":             "-7",
	"app/num/float":           "3.25",
	"app/num/bad":             "forty-two",
	"app/bool":                "true",
	"app/b64":                 base64.StdEncoding.EncodeToString([]byte("hello, world")),
	"app/b64url":              base64.URLEncoding.EncodeToString([]byte("??>>")),
	"app/list":                "a, b ,c",
	"app/map":                 "k1=v1;k2=v2;bad;k3=v=3",
	"app/weird key/x":         "spaced",
	"conflict/x":              "1",
	"conflict/x/y":            "2",
	"upstreams/web/weight":    "5",
	"upstreams/web/max_fails": "3",
	"upstreams/api/weight":    "1",
	"maint/enabled":           "false",
	// Keys of the partial_* cases, each read by one case only: in drcon's
	// batch, a key another case already fetched would answer at once.
	"partial/either/a": "1",
	"partial/either/b": "2",
	"partial/list/x":   "1",
	"partial/listkey":  "k,l",
	"partial/gate":     "open",
	"partial/gated/a":  "1",
	"partial/gated/b":  "2",
	// Keys that must be escaped in a URL path, and values that are not
	// UTF-8 or have odd bytes. They stay out of app/, which the golden
	// corpus lists: state.json is JSON and cannot hold a value that is not
	// UTF-8.
	"special/pct%41":    "percent",
	"special/q?mark":    "question",
	"special/hash#tag":  "hash",
	"special/plus+sign": "plus",
	"special/semi;c":    "semicolon",
	"special/ünï":       "unicode key",
	"special/sp ace":    "space",
	"bytes/binary":      "\xff\xfe\x00bin\x80",
	"bytes/crlf":        "a\r\nb\r\n",
	"bytes/unicode":     "héllo ✓ \u2028 <tag>",
}

// seedNodes are external nodes, registered in the catalog with their
// services and checks in every health state.
var seedNodes = []*api.CatalogRegistration{
	{
		Node: "node-a", Address: "10.1.0.1",
		TaggedAddresses: map[string]string{"lan": "10.1.0.1", "wan": "203.0.113.1"},
		NodeMeta:        map[string]string{"rack": "r1", "env": "prod"},
	},
	{
		Node: "node-b", Address: "10.1.0.2",
		TaggedAddresses: map[string]string{"lan": "10.1.0.2"},
		NodeMeta:        map[string]string{"rack": "r2"},
	},
	{
		Node: "node-c", Address: "10.1.0.3",
		NodeMeta: map[string]string{"rack": "r1", "env": "staging"},
		Checks: api.HealthChecks{{Node: "node-c", CheckID: "node-health", Name: "node health",
			Status: api.HealthWarning, Output: "disk 91% full"}},
	},
}

// seedServices are the instances of the external nodes.
var seedServices = []struct {
	node   string
	svc    *api.AgentService
	status string // "" registers no check
}{
	{"node-a", &api.AgentService{ID: "web-a1", Service: "web", Tags: []string{"v1", "prod"}, Port: 8080,
		Meta: map[string]string{"version": "1", "zone": "eu-west/1a"}}, api.HealthPassing},
	{"node-a", &api.AgentService{ID: "web-a2", Service: "web", Tags: []string{"prod", "v1"}, Port: 8082,
		Meta: map[string]string{"version": "10", "zone": "eu-west/1a"}}, api.HealthPassing},
	{"node-b", &api.AgentService{ID: "web-b1", Service: "web", Tags: []string{"v2", "prod"}, Port: 8080,
		Address: "10.1.0.22", Meta: map[string]string{"version": "2"}}, api.HealthWarning},
	{"node-c", &api.AgentService{ID: "web-c1", Service: "web", Tags: []string{"canary"}, Port: 8081}, api.HealthCritical},
	{"node-a", &api.AgentService{ID: "api-a", Service: "api", Tags: []string{"http", "internal"}, Port: 9090,
		TaggedAddresses: map[string]api.ServiceAddress{"lan_ipv4": {Address: "10.1.0.1", Port: 9090}},
		Weights:         api.AgentWeights{Passing: 5, Warning: 1},
		Meta:            map[string]string{"proto": "http"}}, api.HealthPassing},
	{"node-b", &api.AgentService{ID: "api-b", Service: "api", Tags: []string{"http"}, Port: 9091,
		Weights: api.AgentWeights{Passing: 1, Warning: 1}}, api.HealthPassing},
	{"node-c", &api.AgentService{ID: "db-c", Service: "db", Tags: []string{"primary"}, Port: 5432}, api.HealthPassing},
	{"node-b", &api.AgentService{ID: "cache-b", Service: "cache", Tags: []string{"redis", "primary", "redis"},
		Port: 6379, Meta: map[string]string{"shard": "1"}}, api.HealthPassing},
	{"node-a", &api.AgentService{ID: "cache-a", Service: "cache", Tags: []string{"redis"}, Port: 6380,
		Meta: map[string]string{"shard": "2"}}, api.HealthPassing},
	{"node-a", &api.AgentService{ID: "nocheck", Service: "nocheck", Port: 1}, ""},
}

// seedChecks are extra catalog checks: one with a full HTTP definition (its
// Definition fields show in toJSON of the instance) and a second check on
// the same instance, so that its status is the worst of two.
var seedChecks = []*api.CatalogRegistration{
	{Node: "node-b", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "checked-b", Service: "checked", Tags: []string{"http"}, Port: 7070,
			Meta: map[string]string{"path": "/health"}},
		Checks: api.HealthChecks{
			{Node: "node-b", CheckID: "checked-http", Name: "http health", Status: api.HealthPassing,
				Notes: "probe /health", Output: "HTTP GET: 200 OK", ServiceID: "checked-b", Type: "http",
				Definition: api.HealthCheckDefinition{HTTP: "http://10.1.0.2:7070/health", Method: "GET",
					Header: map[string][]string{"X-Probe": {"a", "b"}}, TLSSkipVerify: true,
					Interval: api.ReadableDuration(10 * time.Second), Timeout: api.ReadableDuration(2 * time.Second)}},
			{Node: "node-b", CheckID: "checked-tcp", Name: "tcp health", Status: api.HealthWarning,
				Output: "slow", ServiceID: "checked-b", Type: "tcp",
				Definition: api.HealthCheckDefinition{TCP: "10.1.0.2:7070"}},
		}},
}

// seedMeshNodes are the nodes of the mesh data: node-d has a node ID,
// datacenter-like meta and every kind of tagged address; node-e has an IPv6
// address (its instances without an address of their own render it); node-m
// is in node maintenance, which puts every instance on it in maintenance.
var seedMeshNodes = []*api.CatalogRegistration{
	{
		ID: "2b9a3c52-9f57-4c1e-8d0e-5a1c7f3e4d01", Node: "node-d", Address: "10.2.0.4",
		TaggedAddresses: map[string]string{"lan": "10.2.0.4", "lan_ipv4": "10.2.0.4", "lan_ipv6": "2001:db8::4",
			"wan": "198.51.100.4", "wan_ipv4": "198.51.100.4", "wan_ipv6": "2001:db8:ffff::4"},
		NodeMeta: map[string]string{"datacenter": "dc-west", "region": "eu-west-1", "zone": "eu-west-1a",
			"consul-version": "1.14.11", "odd": `a<b>&"c" d`, "empty": ""},
	},
	{
		Node: "node-e", Address: "2001:db8::5",
		TaggedAddresses: map[string]string{"lan": "2001:db8::5", "lan_ipv6": "2001:db8::5", "wan_ipv6": "2001:db8:ffff::5"},
		NodeMeta:        map[string]string{"datacenter": "dc-east"},
	},
	{
		Node: "node-m", Address: "10.2.0.9",
		Checks: api.HealthChecks{
			{Node: "node-m", CheckID: "_node_maintenance", Name: "Node Maintenance Mode", Status: api.HealthCritical,
				Notes: "kernel upgrade <CHG-42>"},
			// Not serfHealth: the leader reaps a catalog node with a
			// serfHealth check that is no serf member.
			{Node: "node-m", CheckID: "node-alive", Name: "Node Alive", Status: api.HealthPassing,
				Output: "Agent alive and reachable"},
		},
	},
}

// seedMesh are the instances of the mesh nodes, each with its checks:
// service "pay" on all three (passing, warning, in node maintenance), a
// sidecar proxy of each pay instance (connect "pay"), the three kinds of
// gateway, an IPv6 service with tagged addresses, a service with
// EnableTagOverride, and "shared-1", one service ID on three nodes. Consul
// gives each proxy a consul-virtual tagged address (240.0.0.N, in order of
// registration).
var seedMesh = []*api.CatalogRegistration{
	meshService("node-d", &api.AgentService{ID: "pay-d", Service: "pay", Tags: []string{"v3", "prod"}, Port: 9000,
		Meta: map[string]string{"version": "3"}}, api.HealthPassing),
	{Node: "node-e", SkipNodeUpdate: true,
		Service: &api.AgentService{ID: "pay-e", Service: "pay", Tags: []string{"v3", "canary"}, Port: 9000,
			Address: "2001:db8::50", Meta: map[string]string{"version": "3", "canary": "true"}},
		Checks: api.HealthChecks{
			{Node: "node-e", CheckID: "pay-e-http", Name: "pay http", Status: api.HealthWarning, ServiceID: "pay-e",
				Type: "http", Notes: `Notes with "quotes", <html> & 100% ✓`,
				Output: "HTTP GET http://[2001:db8::50]:9000/health: 429 Too Many Requests\n" +
					"Output: {\"err\":\"<slow> & \\\\retry\"}\n\ttab\u2028end %d %s ",
				ServiceTags: []string{"v3", "canary"},
				Definition:  api.HealthCheckDefinition{HTTP: "http://[2001:db8::50]:9000/health", Method: "GET"}},
			{Node: "node-e", CheckID: "pay-e-ttl", Name: "pay ttl", Status: api.HealthPassing, ServiceID: "pay-e",
				Type: "ttl", Notes: "", Output: ""},
		}},
	meshService("node-m", &api.AgentService{ID: "pay-m", Service: "pay", Tags: []string{"v2"}, Port: 9000},
		api.HealthPassing),
	meshService("node-d", &api.AgentService{Kind: api.ServiceKindConnectProxy, ID: "pay-d-sidecar-proxy",
		Service: "pay-sidecar-proxy", Tags: []string{"proxy"}, Port: 21000,
		Meta: map[string]string{"envoy": "1.24"},
		Proxy: &api.AgentServiceConnectProxyConfig{DestinationServiceName: "pay", DestinationServiceID: "pay-d",
			LocalServiceAddress: "127.0.0.1", LocalServicePort: 9000,
			Config: map[string]interface{}{"protocol": "http", "bind_port": 21000},
			Upstreams: []api.Upstream{
				{DestinationName: "api", LocalBindPort: 10001},
				{DestinationType: api.UpstreamDestTypePreparedQuery, DestinationName: "db-query",
					LocalBindAddress: "127.0.0.2", LocalBindPort: 10002, Datacenter: "dc2"},
			}}}, api.HealthPassing),
	meshService("node-e", &api.AgentService{Kind: api.ServiceKindConnectProxy, ID: "pay-e-sidecar-proxy",
		Service: "pay-sidecar-proxy", Port: 21001, Address: "2001:db8::51",
		Proxy: &api.AgentServiceConnectProxyConfig{DestinationServiceName: "pay", DestinationServiceID: "pay-e",
			LocalServicePort: 9000}}, api.HealthPassing),
	meshService("node-m", &api.AgentService{Kind: api.ServiceKindConnectProxy, ID: "pay-m-sidecar-proxy",
		Service: "pay-sidecar-proxy", Port: 21002,
		Proxy: &api.AgentServiceConnectProxyConfig{DestinationServiceName: "pay", DestinationServiceID: "pay-m",
			LocalServicePort: 9000}}, api.HealthPassing),
	meshService("node-d", &api.AgentService{Kind: api.ServiceKindMeshGateway, ID: "mesh-gateway", Service: "mesh-gateway",
		Tags: []string{"gateway"}, Port: 8443, Meta: map[string]string{"consul-wan-federation": "1"},
		TaggedAddresses: map[string]api.ServiceAddress{"lan": {Address: "10.2.0.4", Port: 8443},
			"wan": {Address: "198.51.100.4", Port: 443}}}, api.HealthPassing),
	meshService("node-d", &api.AgentService{Kind: api.ServiceKindIngressGateway, ID: "ingress-gw", Service: "ingress-gw",
		Port: 8080, Address: "10.2.0.40"}, api.HealthPassing),
	meshService("node-e", &api.AgentService{Kind: api.ServiceKindTerminatingGateway, ID: "term-gw", Service: "term-gw",
		Port: 8444}, api.HealthWarning),
	meshService("node-d", &api.AgentService{ID: "v6-d", Service: "v6", Tags: []string{"ipv6"}, Port: 80,
		Address: "2001:db8::40",
		TaggedAddresses: map[string]api.ServiceAddress{
			"lan_ipv4": {Address: "10.2.0.4", Port: 80}, "lan_ipv6": {Address: "2001:db8::40", Port: 80},
			"wan_ipv4": {Address: "198.51.100.4", Port: 8080}, "wan_ipv6": {Address: "2001:db8:ffff::40", Port: 443},
		}}, api.HealthPassing),
	meshService("node-e", &api.AgentService{ID: "v6-e", Service: "v6", Tags: []string{"ipv6"}, Port: 80}, api.HealthPassing),
	meshService("node-d", &api.AgentService{ID: "tagover-d", Service: "tagover", Tags: []string{"b", "a"}, Port: 7000,
		EnableTagOverride: true}, api.HealthPassing),
	meshService("node-e", &api.AgentService{ID: "tagover-e", Service: "tagover", Tags: []string{"c", "a", "a"}, Port: 7000,
		EnableTagOverride: true}, api.HealthPassing),
	// A name with capitals (Consul matches service names ignoring case) and
	// tags that need escaping, an empty tag and a repeated one.
	meshService("node-e", &api.AgentService{ID: "Odd-1", Service: "Odd-Svc", Port: 4000,
		Tags: []string{"zeta", "Zeta", "ünï", "<b>&", "a b", `q="x"`, "line\nbreak", "", "alpha", "alpha"},
		Meta: map[string]string{"k": "v\u2028w <&>", "Upper": "1"}}, api.HealthPassing),
	meshService("node-d", &api.AgentService{ID: "shared-1", Service: "shared", Port: 6000}, api.HealthPassing),
	meshService("node-e", &api.AgentService{ID: "shared-1", Service: "shared", Port: 6001}, api.HealthPassing),
	meshService("node-m", &api.AgentService{ID: "shared-1", Service: "shared", Port: 6002}, api.HealthPassing),
}

func meshService(node string, svc *api.AgentService, status string) *api.CatalogRegistration {
	return &api.CatalogRegistration{Node: node, SkipNodeUpdate: true, Service: svc,
		Check: &api.AgentCheck{Node: node, CheckID: "service:" + svc.ID, Name: "check " + svc.ID,
			Status: status, Output: "status " + status, ServiceID: svc.ID, Type: "tcp"}}
}

// seedRaw are registrations sent as raw JSON, so that fields the api
// package always sends (Weights, Address) are absent: Consul then fills
// in its own defaults.
var seedRaw = []map[string]any{
	{"Node": "node-d", "SkipNodeUpdate": true,
		"Service": map[string]any{"ID": "noweights-d", "Service": "noweights", "Port": 5000, "Tags": []string{"raw"}},
		"Check": map[string]any{"CheckID": "service:noweights-d", "Name": "check noweights-d", "Status": "passing",
			"ServiceID": "noweights-d"}},
}

// seedKVFlags are KV pairs with flags; seedLocks adds locks: a session holds
// locks/leader (its Session is a fresh ID each run), locks/released was
// acquired and released (LockIndex 1, no Session).
var seedKVFlags = []*api.KVPair{
	{Key: "flags/answer", Value: []byte("42"), Flags: 42},
	{Key: "flags/max", Value: []byte("max"), Flags: 1<<64 - 1},
	{Key: "flags/big", Value: []byte("big"), Flags: 1 << 53},
	{Key: "flags/zero", Value: []byte("zero")},
}

// seed fills a fresh dev agent with the corpus's state and waits until the
// agent's own services and checks are in the catalog.
func seed(t testing.TB, c *testenv.Consul) {
	t.Helper()
	cl := c.Client()
	// Peerings in state PENDING: no peer ever uses their tokens.
	c.Peer("cluster-2", map[string]string{"env": "test"})
	c.Peer("cluster-12", nil)
	// In key order, so that the keys' indexes vary less from run to run.
	for _, k := range slices.Sorted(maps.Keys(seedKV)) {
		if _, err := cl.KV().Put(&api.KVPair{Key: k, Value: []byte(seedKV[k])}, nil); err != nil {
			t.Fatalf("seed kv %s: %v", k, err)
		}
	}
	for _, n := range seedNodes {
		if _, err := cl.Catalog().Register(n, nil); err != nil {
			t.Fatalf("seed node %s: %v", n.Node, err)
		}
	}
	for _, s := range seedServices {
		reg := &api.CatalogRegistration{Node: s.node, Service: s.svc, SkipNodeUpdate: true}
		if s.status != "" {
			reg.Check = &api.AgentCheck{Node: s.node, CheckID: "service:" + s.svc.ID, Name: "check " + s.svc.ID,
				Status: s.status, Output: "status " + s.status, ServiceID: s.svc.ID}
		}
		if _, err := cl.Catalog().Register(reg, nil); err != nil {
			t.Fatalf("seed service %s: %v", s.svc.ID, err)
		}
	}
	for _, r := range seedChecks {
		if _, err := cl.Catalog().Register(r, nil); err != nil {
			t.Fatalf("seed checks of %s: %v", r.Service.ID, err)
		}
	}
	for _, n := range seedMeshNodes {
		if _, err := cl.Catalog().Register(n, nil); err != nil {
			t.Fatalf("seed node %s: %v", n.Node, err)
		}
	}
	for _, r := range seedMesh {
		if _, err := cl.Catalog().Register(r, nil); err != nil {
			t.Fatalf("seed service %s on %s: %v", r.Service.ID, r.Node, err)
		}
	}
	for _, r := range seedRaw {
		if _, err := cl.Raw().Write("/v1/catalog/register", r, nil, nil); err != nil {
			t.Fatalf("seed raw registration %v: %v", r["Service"], err)
		}
	}
	for _, p := range seedKVFlags {
		if _, err := cl.KV().Put(p, nil); err != nil {
			t.Fatalf("seed kv %s: %v", p.Key, err)
		}
	}
	seedLocks(t, cl)
	// Services of the agent's own node: a TTL check that stays passing, one
	// in maintenance, and a Connect-native service for connect.
	for _, r := range []*api.AgentServiceRegistration{
		{ID: "local-web", Name: "local-web", Tags: []string{"local"}, Port: 8000,
			Meta:  map[string]string{"owner": "team-a"},
			Check: &api.AgentServiceCheck{CheckID: "local-web-ttl", TTL: "24h", Status: api.HealthPassing}},
		{ID: "maint-svc", Name: "maint-svc", Port: 8001},
		{ID: "native-app", Name: "native-app", Port: 8002, Connect: &api.AgentServiceConnect{Native: true}},
	} {
		if err := cl.Agent().ServiceRegister(r); err != nil {
			t.Fatalf("seed agent service %s: %v", r.ID, err)
		}
	}
	if err := cl.Agent().EnableServiceMaintenance("maint-svc", "drained"); err != nil {
		t.Fatalf("seed maintenance: %v", err)
	}
	testenv.WaitFor(t, 30*time.Second, "agent services in the catalog", func() bool {
		for _, want := range []struct{ svc, check string }{
			{"local-web", "local-web-ttl"}, {"maint-svc", "_service_maintenance:maint-svc"}, {"native-app", ""},
		} {
			es, _, err := cl.Health().Service(want.svc, "", false, nil)
			if err != nil || len(es) != 1 {
				return false
			}
			if want.check != "" && !hasCheck(es[0].Checks, want.check) {
				return false
			}
		}
		return true
	})
}

func hasCheck(cs api.HealthChecks, id string) bool {
	for _, c := range cs {
		if c.CheckID == id {
			return true
		}
	}
	return false
}

// seedLocks creates a session on the agent's node (it lives as long as the
// agent: no TTL, the node's serfHealth check) and takes two locks with it,
// releasing one.
func seedLocks(t testing.TB, cl *api.Client) {
	t.Helper()
	var id string
	// The agent's node and its serfHealth check reach the catalog shortly
	// after the leader is elected; a session needs both.
	testenv.WaitFor(t, 30*time.Second, "a session on the agent's node", func() bool {
		var err error
		id, _, err = cl.Session().Create(&api.SessionEntry{Name: "leader-lock", Behavior: api.SessionBehaviorRelease,
			LockDelay: time.Nanosecond}, nil)
		return err == nil
	})
	for _, p := range []*api.KVPair{
		{Key: "locks/leader", Value: []byte("drcon-test"), Flags: 3, Session: id},
		{Key: "locks/released", Value: []byte("free"), Session: id},
	} {
		if held, _, err := cl.KV().Acquire(p, nil); err != nil || !held {
			t.Fatalf("seed lock %s: %v (held %v)", p.Key, err, held)
		}
	}
	if ok, _, err := cl.KV().Release(&api.KVPair{Key: "locks/released", Value: []byte("free"), Session: id}, nil); err != nil || !ok {
		t.Fatalf("seed release of locks/released: %v (%v)", err, ok)
	}
}
