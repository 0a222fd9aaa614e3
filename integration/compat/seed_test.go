package compat

import (
	"encoding/base64"
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

// seed fills a fresh dev agent with the corpus's state and waits until the
// agent's own services and checks are in the catalog.
func seed(t testing.TB, c *testenv.Consul) {
	t.Helper()
	cl := c.Client()
	// Peerings in state PENDING: no peer ever uses their tokens.
	c.Peer("cluster-2", map[string]string{"env": "test"})
	c.Peer("cluster-12", nil)
	for k, v := range seedKV {
		if _, err := cl.KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
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
