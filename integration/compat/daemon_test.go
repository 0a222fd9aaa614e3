package compat

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// daemonCase is one side-by-side run: consul-template and drcon run as
// daemons over the same templates and Consul while steps change the state.
type daemonCase struct {
	name  string
	setup func(e *daemonEnv) // the state before the daemons start
	// tmpls are name: text; "@DIR@" is the case's directory, "@OUT@" the
	// daemon's own directory of destinations.
	tmpls map[string]string
	args  []string // more flags for both daemons
	// config is a configuration file both read (-config), in the syntax
	// both take, with "@DIR@" and "@OUT@" replaced as in tmpls.
	config string
	steps  []daemonStep
	// stable are files whose content no step changes: neither daemon may
	// write them again after the start (same inode, modification and change
	// times; a rewrite, even of the same bytes, renames a new file in).
	stable []string
	// ct holds, by step name, the files whose bytes consul-template
	// reaches instead of want's, where drcon differs on purpose (the case
	// says why).
	ct map[string]map[string]string
}

// daemonStep is one change and the bytes each file holds once both daemons
// settled ("" for a file never written).
type daemonStep struct {
	name string
	do   func(e *daemonEnv)
	want map[string]string
}

// daemonEnv is what a step changes.
type daemonEnv struct {
	t   *testing.T
	c   *testenv.Consul
	cl  *api.Client
	dir string
}

func (e *daemonEnv) put(k, v string) {
	e.t.Helper()
	if _, err := e.cl.KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
		e.t.Fatalf("put %s: %v", k, err)
	}
}

func (e *daemonEnv) del(k string) {
	e.t.Helper()
	if _, err := e.cl.KV().Delete(k, nil); err != nil {
		e.t.Fatalf("delete %s: %v", k, err)
	}
}

func (e *daemonEnv) delTree(prefix string) {
	e.t.Helper()
	if _, err := e.cl.KV().DeleteTree(prefix, nil); err != nil {
		e.t.Fatalf("delete tree %s: %v", prefix, err)
	}
}

// reg registers instance id of service name on node (created with addr if
// new) with one check in status.
func (e *daemonEnv) reg(node, addr, id, name string, port int, status string, tags ...string) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, Address: addr,
		Service: &api.AgentService{ID: id, Service: name, Port: port, Tags: tags},
		Check: &api.AgentCheck{Node: node, CheckID: "service:" + id, Name: "check " + id, Status: status,
			ServiceID: id}}, nil)
	if err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
}

func (e *daemonEnv) dereg(node, id string) {
	e.t.Helper()
	if _, err := e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: node, ServiceID: id}, nil); err != nil {
		e.t.Fatalf("deregister %s: %v", id, err)
	}
}

func (e *daemonEnv) deregNode(node string) {
	e.t.Helper()
	if _, err := e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: node}, nil); err != nil {
		e.t.Fatalf("deregister node %s: %v", node, err)
	}
}

// regConnect registers a Connect-native instance with a passing check.
func (e *daemonEnv) regConnect(node, addr, id, name string, port int) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, Address: addr,
		Service: &api.AgentService{ID: id, Service: name, Port: port, Connect: &api.AgentServiceConnect{Native: true}},
		Check: &api.AgentCheck{Node: node, CheckID: "service:" + id, Name: "check " + id, Status: api.HealthPassing,
			ServiceID: id}}, nil)
	if err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
}

// nodeMaint puts node in maintenance (a critical _node_maintenance check)
// or takes it out.
func (e *daemonEnv) nodeMaint(node string, on bool) {
	e.t.Helper()
	var err error
	if on {
		_, err = e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, SkipNodeUpdate: true,
			Check: &api.AgentCheck{Node: node, CheckID: "_node_maintenance", Name: "Node Maintenance Mode",
				Status: api.HealthCritical}}, nil)
	} else {
		_, err = e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: node, CheckID: "_node_maintenance"}, nil)
	}
	if err != nil {
		e.t.Fatalf("maintenance of %s: %v", node, err)
	}
}

// regNode registers node with addr, meta and a lan tagged address, keeping
// its services.
func (e *daemonEnv) regNode(node, addr string, meta map[string]string) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, Address: addr, NodeMeta: meta,
		TaggedAddresses: map[string]string{"lan": addr}}, nil)
	if err != nil {
		e.t.Fatalf("register node %s: %v", node, err)
	}
}

// svcMaint puts instance id on node in maintenance (a critical
// _service_maintenance check) or takes it out.
func (e *daemonEnv) svcMaint(node, id string, on bool) {
	e.t.Helper()
	check := "_service_maintenance:" + id
	var err error
	if on {
		_, err = e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, SkipNodeUpdate: true,
			Check: &api.AgentCheck{Node: node, CheckID: check, Name: "Service Maintenance Mode",
				Status: api.HealthCritical, ServiceID: id}}, nil)
	} else {
		_, err = e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: node, CheckID: check}, nil)
	}
	if err != nil {
		e.t.Fatalf("maintenance of %s: %v", id, err)
	}
}

// regProxy registers a sidecar proxy of service dest with a passing check.
func (e *daemonEnv) regProxy(node, addr, id, dest string, port int) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, Address: addr,
		Service: &api.AgentService{Kind: api.ServiceKindConnectProxy, ID: id, Service: dest + "-sidecar-proxy",
			Port: port, Proxy: &api.AgentServiceConnectProxyConfig{DestinationServiceName: dest}},
		Check: &api.AgentCheck{Node: node, CheckID: "service:" + id, Name: "check " + id, Status: api.HealthPassing,
			ServiceID: id}}, nil)
	if err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
}

// nodeCheck registers a check of node itself (no service) in status.
func (e *daemonEnv) nodeCheck(node, status string) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, SkipNodeUpdate: true,
		Check: &api.AgentCheck{Node: node, CheckID: "node-check", Name: "node check", Status: status}}, nil)
	if err != nil {
		e.t.Fatalf("check of node %s: %v", node, err)
	}
}

// regMeta registers instance id of service name on node with meta and a
// passing check.
func (e *daemonEnv) regMeta(node, addr, id, name string, port int, meta map[string]string) {
	e.t.Helper()
	_, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: node, Address: addr,
		Service: &api.AgentService{ID: id, Service: name, Port: port, Meta: meta},
		Check: &api.AgentCheck{Node: node, CheckID: "service:" + id, Name: "check " + id, Status: api.HealthPassing,
			ServiceID: id}}, nil)
	if err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
}

func (e *daemonEnv) write(name, content string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

var daemonCases = []daemonCase{
	{
		name: "a service's last instance goes and comes back",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "web-1", "web", 80, api.HealthPassing, "a")
			e.reg("n1", "10.0.0.1", "api-1", "api", 90, api.HealthPassing)
		},
		tmpls: map[string]string{
			"health": `{{ range service "web" }}{{ .ID }}@{{ .Address }}:{{ .Port }}{{ .Tags }} {{ end }}` +
				`|{{ range service "web|any" }}{{ .ID }}/{{ .Status }} {{ end }}` + "\n",
			"catalog": `{{ range services }}{{ .Name }}{{ .Tags }} {{ end }}` + "\n",
			"npass": `{{ range services }}{{ if ne .Name "consul" }}` +
				`{{ .Name }}:{{ range service .Name }}{{ .Port }},{{ end }} {{ end }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{
				"health": "web-1@10.0.0.1:80[a] |web-1/passing \n", "catalog": "api[] consul[] web[a] \n",
				"npass": "api:90, web:80, \n"}},
			{"the last instance goes", func(e *daemonEnv) { e.dereg("n1", "web-1") }, map[string]string{
				"health": "|\n", "catalog": "api[] consul[] \n", "npass": "api:90, \n"}},
			{"it comes back", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "web-2", "web", 81, api.HealthPassing, "b") },
				map[string]string{
					"health": "web-2@10.0.0.1:81[b] |web-2/passing \n", "catalog": "api[] consul[] web[b] \n",
					"npass": "api:90, web:81, \n"}},
			{"every instance critical", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "web-2", "web", 81, api.HealthCritical, "b") },
				map[string]string{
					"health": "|web-2/critical \n", "catalog": "api[] consul[] web[b] \n",
					"npass": "api:90, web: \n"}},
			{"and back", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "web-2", "web", 81, api.HealthPassing, "b") }, map[string]string{
				"health": "web-2@10.0.0.1:81[b] |web-2/passing \n", "catalog": "api[] consul[] web[b] \n",
				"npass": "api:90, web:81, \n"}},
		},
	},
	{
		name: "a node goes and comes back",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "web-1", "web", 80, api.HealthPassing)
			e.reg("n2", "10.0.0.2", "web-2", "web", 80, api.HealthPassing)
		},
		tmpls: map[string]string{
			"node": `{{ with node "n2" }}[{{ with .Node }}{{ .Node }}@{{ .Address }}{{ end }}]` +
				`{{ range .Services }}{{ .ID }} {{ end }}{{ end }}` + "\n",
			"nodes": `{{ range nodes }}{{ .Node }}@{{ .Address }} {{ end }}|{{ range service "web" }}{{ .Node }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{
				"node": "[n2@10.0.0.2]web-2 \n", "nodes": "drcon-test@127.0.0.1 n1@10.0.0.1 n2@10.0.0.2 |n1 n2 \n"}},
			{"the node goes", func(e *daemonEnv) { e.deregNode("n2") }, map[string]string{
				"node": "[]\n", "nodes": "drcon-test@127.0.0.1 n1@10.0.0.1 |n1 \n"}},
			{"it comes back", func(e *daemonEnv) { e.reg("n2", "10.0.0.3", "web-3", "web", 80, api.HealthPassing) }, map[string]string{
				"node": "[n2@10.0.0.3]web-3 \n", "nodes": "drcon-test@127.0.0.1 n1@10.0.0.1 n2@10.0.0.3 |n1 n2 \n"}},
		},
	},
	{
		name: "a prefix is emptied and refilled",
		setup: func(e *daemonEnv) {
			e.put("p/a", "1")
			e.put("p/d/b", "2")
			e.put("v", "one")
		},
		tmpls: map[string]string{
			"ls":       `{{ range ls "p" }}{{ .Key }}={{ .Value }} {{ end }}|{{ key "v" }}` + "\n",
			"tree":     `{{ range tree "p" }}{{ .Key }}={{ .Value }} {{ end }}|{{ key "v" }}` + "\n",
			"safeLs":   `{{ range safeLs "p" }}{{ .Key }}={{ .Value }} {{ end }}|{{ key "v" }}` + "\n",
			"safeTree": `{{ range safeTree "p" }}{{ .Key }}={{ .Value }} {{ end }}|{{ key "v" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"ls": "a=1 |one\n", "tree": "a=1 d/b=2 |one\n", "safeLs": "a=1 |one\n",
				"safeTree": "a=1 d/b=2 |one\n"}},
			{"the prefix emptied", func(e *daemonEnv) { e.delTree("p/") }, map[string]string{
				"ls": "|one\n", "tree": "|one\n", "safeLs": "a=1 |one\n", "safeTree": "a=1 d/b=2 |one\n"}},
			{"another key changes", func(e *daemonEnv) { e.put("v", "two") }, map[string]string{
				"ls": "|two\n", "tree": "|two\n", "safeLs": "a=1 |one\n", "safeTree": "a=1 d/b=2 |one\n"}},
			{"a folder alone", func(e *daemonEnv) { e.put("p/d/", "") }, map[string]string{
				"ls": "|two\n", "tree": "|two\n", "safeLs": "a=1 |one\n", "safeTree": "a=1 d/b=2 |one\n"}},
			{"refilled", func(e *daemonEnv) { e.put("p/c", "3") }, map[string]string{
				"ls": "c=3 |two\n", "tree": "c=3 |two\n", "safeLs": "c=3 |two\n", "safeTree": "c=3 |two\n"}},
		},
	},
	{
		name: "keys deleted and re-created",
		setup: func(e *daemonEnv) {
			e.put("k/x", "one")
			e.put("k/y", "a")
		},
		tmpls: map[string]string{
			"all":   `{{ key "k/x" }}|{{ keyExists "k/x" }}|{{ keyOrDefault "k/x" "def" }}|{{ key "k/y" }}` + "\n",
			"guard": `{{ if keyExists "k/x" }}{{ key "k/x" }}{{ else }}none{{ end }}|{{ key "k/y" }}` + "\n",
			"late":  `{{ key "k/z" }}|{{ key "k/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"all": "one|true|one|a\n", "guard": "one|a\n", "late": ""}},
			{"x deleted", func(e *daemonEnv) { e.del("k/x") }, map[string]string{
				"all": "one|false|def|a\n", "guard": "none|a\n", "late": ""}},
			{"y changes", func(e *daemonEnv) { e.put("k/y", "b") }, map[string]string{
				"all": "one|false|def|b\n", "guard": "none|b\n", "late": ""}},
			{"x back", func(e *daemonEnv) { e.put("k/x", "two") }, map[string]string{
				"all": "two|true|two|b\n", "guard": "two|b\n", "late": ""}},
			{"z appears", func(e *daemonEnv) { e.put("k/z", "zed") }, map[string]string{
				"all": "two|true|two|b\n", "guard": "two|b\n", "late": "zed|b\n"}},
			{"z deleted, y changes", func(e *daemonEnv) { e.del("k/z"); e.put("k/y", "c") }, map[string]string{
				"all": "two|true|two|c\n", "guard": "two|c\n", "late": "zed|c\n"}},
		},
	},
	{
		name: "a level of discovery goes and comes back",
		setup: func(e *daemonEnv) {
			e.put("list/a", "")
			e.put("list/b", "")
			e.put("cfg/a", "1")
			e.put("cfg/b", "2")
		},
		tmpls: map[string]string{
			"byList": `{{ range ls "list" }}{{ .Key }}={{ key (print "cfg/" .Key) }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"byList": "a=1 b=2 \n"}},
			{"a's value deleted", func(e *daemonEnv) { e.del("cfg/a"); e.put("cfg/b", "3") }, map[string]string{"byList": "a=1 b=3 \n"}},
			{"a leaves the list", func(e *daemonEnv) { e.del("list/a") }, map[string]string{"byList": "b=3 \n"}},
			{"a back in the list, without a value", func(e *daemonEnv) { e.put("list/a", "") }, map[string]string{"byList": "b=3 \n"}},
			{"b changes meanwhile", func(e *daemonEnv) { e.put("cfg/b", "4") }, map[string]string{"byList": "b=3 \n"}},
			{"a's value back", func(e *daemonEnv) { e.put("cfg/a", "5") }, map[string]string{"byList": "a=5 b=4 \n"}},
		},
	},
	{
		name: "file sources edited",
		setup: func(e *daemonEnv) {
			e.write("f1", "first")
			e.put("fk", "k1")
		},
		tmpls: map[string]string{
			"file": `{{ file "@DIR@/f1" }}|{{ key "fk" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"file": "first|k1\n"}},
			{"the file edited", func(e *daemonEnv) { e.write("f1", "second") }, map[string]string{"file": "second|k1\n"}},
			{"a key", func(e *daemonEnv) { e.put("fk", "k2") }, map[string]string{"file": "second|k2\n"}},
			{"the file edited again", func(e *daemonEnv) { e.write("f1", "third!") }, map[string]string{"file": "third!|k2\n"}},
			{"the file replaced", func(e *daemonEnv) {
				e.write("f1.new", "fourth")
				if err := os.Rename(filepath.Join(e.dir, "f1.new"), filepath.Join(e.dir, "f1")); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"file": "fourth|k2\n"}},
		},
	},
	{
		name: "bursts under quiescence",
		args: []string{"-wait", "100ms:400ms"},
		setup: func(e *daemonEnv) {
			e.put("burst/n", "0")
		},
		tmpls: map[string]string{
			"burst": `{{ range ls "burst" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"burst": "n=0 \n"}},
			{"a burst", func(e *daemonEnv) {
				for i := range 30 {
					e.put("burst/n", strconv.Itoa(i))
					if i%3 == 0 {
						e.put("burst/m"+strconv.Itoa(i), "x")
					}
				}
				for i := range 30 {
					if i%6 == 0 {
						e.del("burst/m" + strconv.Itoa(i))
					}
				}
			}, map[string]string{"burst": "m15=x m21=x m27=x m3=x m9=x n=29 \n"}},
		},
	},
	{
		name:   "Consul restarts and forgets everything",
		config: `block_query_wait = "3s"`,
		setup: func(e *daemonEnv) {
			e.put("r/k", "one")
			e.put("r/l/a", "1")
			e.put("r/d", "x")
			e.reg("n1", "10.0.0.1", "rs-1", "rs", 80, api.HealthPassing)
		},
		tmpls: map[string]string{
			"r": `{{ key "r/k" }}|{{ range ls "r/l" }}{{ .Key }} {{ end }}` +
				`|{{ range service "rs" }}{{ .Port }} {{ end }}|{{ keyOrDefault "r/d" "def" }}` + "\n",
			"rsafe": `{{ range safeLs "r/l" }}{{ .Key }} {{ end }}|{{ key "r/k" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"r": "one|a |80 |x\n", "rsafe": "a |one\n"}},
			{"restart", func(e *daemonEnv) {
				e.c.Restart()
				// consul-template keeps asking with the old indexes: an answer
				// of the new agent at the same index would pass for no change
				// until the next one. Writes move the new indexes past them.
				for i := range 40 {
					e.put("pad/"+strconv.Itoa(i), "")
					e.reg("pad", "10.9.0.1", "pad-"+strconv.Itoa(i), "pad", i, api.HealthPassing)
				}
			}, map[string]string{"r": "one|||def\n", "rsafe": "a |one\n"}},
			{"some data back", func(e *daemonEnv) {
				e.put("r/l/b", "2")
				e.put("r/k", "two")
				e.reg("n1", "10.0.0.1", "rs-2", "rs", 81, api.HealthPassing)
			}, map[string]string{"r": "two|b |81 |def\n", "rsafe": "b |two\n"}},
		},
	},
	{
		name: "a key shared by two templates, deleted while one stops using it",
		setup: func(e *daemonEnv) {
			e.put("s/x", "one")
			e.put("s/on", "")
			e.put("s/y", "a")
		},
		tmpls: map[string]string{
			"always": `{{ key "s/x" }}` + "\n",
			"gated":  `{{ if keyExists "s/on" }}{{ key "s/x" }}{{ end }}|{{ key "s/y" }}` + "\n",
			"alone":  `{{ if keyExists "s/on" }}{{ key "s/z" }}{{ end }}|{{ key "s/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"a key appears that one waited for", func(e *daemonEnv) { e.put("s/z", "zed") },
				map[string]string{"always": "one\n", "gated": "one|a\n", "alone": "zed|a\n"}},
			{"x and z deleted", func(e *daemonEnv) { e.del("s/x"); e.del("s/z") },
				map[string]string{"always": "one\n", "gated": "one|a\n", "alone": "zed|a\n"}},
			{"the gate closes", func(e *daemonEnv) { e.del("s/on") },
				map[string]string{"always": "one\n", "gated": "|a\n", "alone": "|a\n"}},
			{"the gate opens", func(e *daemonEnv) { e.put("s/on", "") },
				map[string]string{"always": "one\n", "gated": "one|a\n", "alone": "|a\n"}},
			{"y changes", func(e *daemonEnv) { e.put("s/y", "b") },
				map[string]string{"always": "one\n", "gated": "one|b\n", "alone": "|a\n"}},
			{"z back", func(e *daemonEnv) { e.put("s/z", "zz") },
				map[string]string{"always": "one\n", "gated": "one|b\n", "alone": "zz|b\n"}},
		},
	},
	{
		name:   "a render error in between (template_error_fatal = false)",
		config: `template_error_fatal = false`,
		setup: func(e *daemonEnv) {
			e.put("e/n", "1")
			e.put("e/m", "a")
			e.put("e/l1/x", "")
			e.put("e/l2/y", "")
		},
		tmpls: map[string]string{
			"err": `{{ $n := key "e/n" | parseInt }}{{ $n }}|{{ range ls (print "e/l" $n) }}{{ .Key }}{{ end }}|{{ key "e/m" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"err": "1|x|a\n"}},
			{"the number breaks", func(e *daemonEnv) { e.put("e/n", "x") }, map[string]string{"err": "1|x|a\n"}},
			{"another key changes", func(e *daemonEnv) { e.put("e/m", "b") }, map[string]string{"err": "1|x|a\n"}},
			{"the list of the last good render changes", func(e *daemonEnv) { e.put("e/l1/z", "") }, map[string]string{"err": "1|x|a\n"}},
			{"the number mended", func(e *daemonEnv) { e.put("e/n", "2") }, map[string]string{"err": "2|y|b\n"}},
		},
	},
	{
		name: "a dependency dropped and taken up again within a quiescence window",
		// The window (3s of quiet) outlasts the second between the two writes
		// of a step many times over, so both daemons execute in between even on
		// a loaded machine.
		args: []string{"-wait", "3s:12s"},
		setup: func(e *daemonEnv) {
			e.put("q/list/a", "")
			e.put("q/list/b", "")
			e.put("q/cfg/a", "1")
			e.put("q/cfg/b", "2")
		},
		tmpls: map[string]string{
			"q": `{{ range ls "q/list" }}{{ .Key }}={{ key (print "q/cfg/" .Key) }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"q": "a=1 b=2 \n"}},
			{"a's value deleted", func(e *daemonEnv) { e.del("q/cfg/a"); e.put("q/cfg/b", "3") }, map[string]string{"q": "a=1 b=3 \n"}},
			{"a leaves the list and comes back", func(e *daemonEnv) {
				e.del("q/list/a")
				time.Sleep(time.Second)
				e.put("q/list/a", "")
			}, map[string]string{"q": "a=1 b=3 \n"}},
			{"b changes", func(e *daemonEnv) { e.put("q/cfg/b", "4") }, map[string]string{"q": "a=1 b=3 \n"}},
			{"a's value back", func(e *daemonEnv) { e.put("q/cfg/a", "5") }, map[string]string{"q": "a=5 b=4 \n"}},
			{"c joins the list and its value goes", func(e *daemonEnv) {
				e.put("q/cfg/c", "7")
				e.put("q/list/c", "")
				time.Sleep(time.Second)
				e.del("q/cfg/c")
			}, map[string]string{"q": "a=5 b=4 c=7 \n"}},
		},
	},
	{
		name: "connect instances and maintenance",
		setup: func(e *daemonEnv) {
			e.regConnect("n1", "10.0.0.1", "cn-1", "cn", 80)
			e.reg("n1", "10.0.0.1", "m-1", "m", 70, api.HealthPassing)
		},
		tmpls: map[string]string{
			"connect": `{{ range connect "cn" }}{{ .ID }}:{{ .Port }} {{ end }}` +
				`|{{ range service "m" }}{{ .ID }} {{ end }}|{{ range service "m` +
				`|any" }}{{ .Status }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"connect": "cn-1:80 |m-1 |passing \n"}},
			{"the connect instance goes", func(e *daemonEnv) { e.dereg("n1", "cn-1") }, map[string]string{"connect": "|m-1 |passing \n"}},
			{"it comes back", func(e *daemonEnv) { e.regConnect("n1", "10.0.0.1", "cn-2", "cn", 81) },
				map[string]string{"connect": "cn-2:81 |m-1 |passing \n"}},
			{"the node in maintenance", func(e *daemonEnv) { e.nodeMaint("n1", true) }, map[string]string{"connect": "||maintenance \n"}},
			{"and out", func(e *daemonEnv) { e.nodeMaint("n1", false) }, map[string]string{"connect": "cn-2:81 |m-1 |passing \n"}},
		},
	},
	{
		name: "a key names the service",
		setup: func(e *daemonEnv) {
			e.put("svcname", "sa")
			e.reg("n1", "10.0.0.1", "sa-1", "sa", 1, api.HealthPassing)
			e.reg("n1", "10.0.0.1", "sb-1", "sb", 2, api.HealthPassing)
		},
		tmpls: map[string]string{
			"byKey": `{{ range service (key "svcname") }}{{ .Port }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"byKey": "1 \n"}},
			{"another service", func(e *daemonEnv) { e.put("svcname", "sb") }, map[string]string{"byKey": "2 \n"}},
			{"the key deleted", func(e *daemonEnv) { e.del("svcname") }, map[string]string{"byKey": "2 \n"}},
			{"its last instance goes", func(e *daemonEnv) { e.dereg("n1", "sb-1") }, map[string]string{"byKey": "\n"}},
			{"a new one", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "sb-2", "sb", 3, api.HealthPassing) },
				map[string]string{"byKey": "3 \n"}},
			{"a service that does not exist", func(e *daemonEnv) { e.put("svcname", "sc") }, map[string]string{"byKey": "\n"}},
			{"it appears", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "sc-1", "sc", 4, api.HealthPassing) },
				map[string]string{"byKey": "4 \n"}},
		},
	},
	{
		name: "tags and nodes of instances change",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "t-1", "tw", 1, api.HealthPassing, "prod")
			e.reg("n2", "10.0.0.2", "t-2", "tw", 2, api.HealthPassing, "prod", "canary")
		},
		tmpls: map[string]string{
			"tags": `{{ range service "prod.tw" }}{{ .ID }}@{{ .Node }} {{ end }}` +
				`|{{ range services }}{{ if eq .Name "tw" }}{{ .Tags }}{{ end }}{{ end }}` + "\n",
			"nodes": `{{ range nodes }}{{ .Node }}:` +
				`{{ with node .Node }}{{ range .Services }}{{ .ID }},{{ end }}{{ end }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"tags": "t-1@n1 t-2@n2 |[canary prod]\n", "nodes": "drcon-test:consul, n1:t-1, n2:t-2, \n"}},
			{"a tag goes", func(e *daemonEnv) { e.reg("n2", "10.0.0.2", "t-2", "tw", 2, api.HealthPassing, "canary") }, map[string]string{
				"tags": "t-1@n1 |[canary prod]\n", "nodes": "drcon-test:consul, n1:t-1, n2:t-2, \n"}},
			{"the last prod instance moves to n2", func(e *daemonEnv) {
				e.dereg("n1", "t-1")
				e.reg("n2", "10.0.0.2", "t-1", "tw", 1, api.HealthPassing, "prod")
			}, map[string]string{"tags": "t-1@n2 |[canary prod]\n", "nodes": "drcon-test:consul, n1: n2:t-1,t-2, \n"}},
			{"n1 goes", func(e *daemonEnv) { e.deregNode("n1") }, map[string]string{
				"tags": "t-1@n2 |[canary prod]\n", "nodes": "drcon-test:consul, n2:t-1,t-2, \n"}},
			{"n1 back with an instance", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "t-3", "tw", 3, api.HealthPassing, "prod") },
				map[string]string{
					"tags": "t-3@n1 t-1@n2 |[canary prod]\n", "nodes": "drcon-test:consul, n1:t-3, n2:t-1,t-2, \n"}},
		},
	},
	{
		name: "a deleted key handed from one template to another",
		setup: func(e *daemonEnv) {
			e.put("h/sel", "1")
			e.put("h/x", "one")
		},
		tmpls: map[string]string{
			"t1": `{{ if eq (key "h/sel") "1" }}{{ key "h/x" }}{{ end }}|{{ key "h/sel" }}` + "\n",
			"t2": `{{ if eq (key "h/sel") "2" }}{{ key "h/x" }}{{ end }}|{{ key "h/sel" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"t1": "one|1\n", "t2": "|1\n"}},
			{"x deleted", func(e *daemonEnv) { e.del("h/x") }, map[string]string{"t1": "one|1\n", "t2": "|1\n"}},
			{"the other template takes it", func(e *daemonEnv) { e.put("h/sel", "2") }, map[string]string{"t1": "|2\n", "t2": "one|2\n"}},
			{"and back", func(e *daemonEnv) { e.put("h/sel", "1") }, map[string]string{"t1": "one|1\n", "t2": "|1\n"}},
		},
	},
	{
		name: "tags change under tag filters and byTag",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "bt-1", "bt", 1, api.HealthPassing, "v1")
			e.reg("n2", "10.0.0.2", "bt-2", "bt", 2, api.HealthPassing, "v2", "x")
		},
		tmpls: map[string]string{
			"v2": `{{ range service "v2.bt" }}{{ .ID }}{{ .Tags }} {{ end }}` + "\n",
			"byTag": `{{ range $t, $s := service "bt" | byTag }}{{ $t }}={{ range $s }}{{ .ID }},{{ end }} {{ end }}` +
				`|{{ range services }}{{ .Name }}{{ .Tags }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"v2": "bt-2[v2 x] \n", "byTag": "v1=bt-1, v2=bt-2, x=bt-2, |bt[v1 v2 x] consul[] \n"}},
			{"bt-1 takes v2", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "bt-1", "bt", 1, api.HealthPassing, "v2") },
				map[string]string{"v2": "bt-1[v2] bt-2[v2 x] \n", "byTag": "v2=bt-1,bt-2, x=bt-2, |bt[v2 x] consul[] \n"}},
			{"bt-2 drops its tags", func(e *daemonEnv) { e.reg("n2", "10.0.0.2", "bt-2", "bt", 2, api.HealthPassing) },
				map[string]string{"v2": "bt-1[v2] \n", "byTag": "v2=bt-1, |bt[v2] consul[] \n"}},
			{"no v2 left", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "bt-1", "bt", 1, api.HealthPassing, "v3") },
				map[string]string{"v2": "\n", "byTag": "v3=bt-1, |bt[v3] consul[] \n"}},
			{"v2 back, critical", func(e *daemonEnv) { e.reg("n2", "10.0.0.2", "bt-2", "bt", 2, api.HealthCritical, "v2") },
				map[string]string{"v2": "\n", "byTag": "v3=bt-1, |bt[v2 v3] consul[] \n"}},
			{"and passing", func(e *daemonEnv) { e.reg("n2", "10.0.0.2", "bt-2", "bt", 2, api.HealthPassing, "v2") },
				map[string]string{"v2": "bt-2[v2] \n", "byTag": "v2=bt-2, v3=bt-1, |bt[v2 v3] consul[] \n"}},
		},
	},
	{
		name: "checks move between warning, critical and maintenance under status filters",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "sf-1", "sf", 1, api.HealthPassing)
			e.reg("n1", "10.0.0.1", "sf-2", "sf", 2, api.HealthPassing)
		},
		tmpls: map[string]string{
			"any":   `{{ range service "sf|any" }}{{ .ID }}/{{ .Status }} {{ end }}` + "\n",
			"bad":   `{{ range service "sf|warning,critical" }}{{ .ID }}/{{ .Status }} {{ end }}` + "\n",
			"okay":  `{{ range service "sf|passing,warning" }}{{ .ID }}/{{ .Status }} {{ end }}|{{ range service "sf" }}{{ .ID }} {{ end }}` + "\n",
			"maint": `{{ range service "sf|maintenance" }}{{ .ID }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"any": "sf-1/passing sf-2/passing \n", "bad": "\n",
				"okay": "sf-1/passing sf-2/passing |sf-1 sf-2 \n", "maint": "\n"}},
			{"sf-1 warning", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "sf-1", "sf", 1, api.HealthWarning) },
				map[string]string{"any": "sf-1/warning sf-2/passing \n", "bad": "sf-1/warning \n",
					"okay": "sf-1/warning sf-2/passing |sf-2 \n", "maint": "\n"}},
			{"sf-1 critical", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "sf-1", "sf", 1, api.HealthCritical) },
				map[string]string{"any": "sf-1/critical sf-2/passing \n", "bad": "sf-1/critical \n",
					"okay": "sf-2/passing |sf-2 \n", "maint": "\n"}},
			{"sf-2 in maintenance", func(e *daemonEnv) { e.svcMaint("n1", "sf-2", true) },
				map[string]string{"any": "sf-1/critical sf-2/maintenance \n", "bad": "sf-1/critical \n",
					"okay": "|\n", "maint": "sf-2 \n"}},
			{"sf-1 passing, sf-2 out of maintenance and warning", func(e *daemonEnv) {
				e.reg("n1", "10.0.0.1", "sf-1", "sf", 1, api.HealthPassing)
				e.reg("n1", "10.0.0.1", "sf-2", "sf", 2, api.HealthWarning)
				e.svcMaint("n1", "sf-2", false)
			}, map[string]string{"any": "sf-1/passing sf-2/warning \n", "bad": "sf-2/warning \n",
				"okay": "sf-1/passing sf-2/warning |sf-1 \n", "maint": "\n"}},
		},
	},
	{
		name: "a node's address and meta change",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "nm-1", "nm", 1, api.HealthPassing)
			e.regNode("n1", "10.0.0.1", map[string]string{"role": "a"})
		},
		tmpls: map[string]string{
			"nodes": `{{ range nodes }}{{ if ne .Node "drcon-test" }}{{ .Node }}@{{ .Address }}{{ .Meta }}{{ .TaggedAddresses }} {{ end }}{{ end }}` + "\n",
			"node": `{{ with node "n1" }}{{ .Node.Address }}{{ .Node.Meta }}{{ .Node.TaggedAddresses }}` +
				`{{ range .Services }} {{ .ID }}:{{ .Port }}{{ end }}{{ end }}` + "\n",
			"svc": `{{ range service "nm" }}{{ .ID }}@{{ .Address }}{{ .NodeAddress }}{{ .NodeMeta }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"nodes": "n1@10.0.0.1map[role:a]map[lan:10.0.0.1] \n",
				"node": "10.0.0.1map[role:a]map[lan:10.0.0.1] nm-1:1\n", "svc": "nm-1@10.0.0.110.0.0.1map[role:a] \n"}},
			{"the meta changes", func(e *daemonEnv) { e.regNode("n1", "10.0.0.1", map[string]string{"role": "b", "z": "1"}) },
				map[string]string{"nodes": "n1@10.0.0.1map[role:b z:1]map[lan:10.0.0.1] \n",
					"node": "10.0.0.1map[role:b z:1]map[lan:10.0.0.1] nm-1:1\n", "svc": "nm-1@10.0.0.110.0.0.1map[role:b z:1] \n"}},
			{"the address changes", func(e *daemonEnv) { e.regNode("n1", "10.0.0.9", map[string]string{"role": "b", "z": "1"}) },
				map[string]string{"nodes": "n1@10.0.0.9map[role:b z:1]map[lan:10.0.0.9] \n",
					"node": "10.0.0.9map[role:b z:1]map[lan:10.0.0.9] nm-1:1\n", "svc": "nm-1@10.0.0.910.0.0.9map[role:b z:1] \n"}},
			{"the meta goes", func(e *daemonEnv) { e.regNode("n1", "10.0.0.9", nil) },
				map[string]string{"nodes": "n1@10.0.0.9map[]map[lan:10.0.0.9] \n",
					"node": "10.0.0.9map[]map[lan:10.0.0.9] nm-1:1\n", "svc": "nm-1@10.0.0.910.0.0.9map[] \n"}},
		},
	},
	{
		name: "sidecar proxies come and go under connect",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "cp-1", "cp", 80, api.HealthPassing)
			e.regProxy("n1", "10.0.0.1", "cp-1-proxy", "cp", 21000)
		},
		tmpls: map[string]string{
			"connect": `{{ range connect "cp" }}{{ .ID }}:{{ .Port }} {{ end }}|{{ range service "cp" }}{{ .ID }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"connect": "cp-1-proxy:21000 |cp-1 \n"}},
			{"a second proxy", func(e *daemonEnv) {
				e.reg("n2", "10.0.0.2", "cp-2", "cp", 80, api.HealthPassing)
				e.regProxy("n2", "10.0.0.2", "cp-2-proxy", "cp", 21001)
			}, map[string]string{"connect": "cp-1-proxy:21000 cp-2-proxy:21001 |cp-1 cp-2 \n"}},
			{"the first proxy goes", func(e *daemonEnv) { e.dereg("n1", "cp-1-proxy") },
				map[string]string{"connect": "cp-2-proxy:21001 |cp-1 cp-2 \n"}},
			{"the last proxy goes", func(e *daemonEnv) { e.dereg("n2", "cp-2-proxy") },
				map[string]string{"connect": "|cp-1 cp-2 \n"}},
			{"one comes back", func(e *daemonEnv) { e.regProxy("n1", "10.0.0.1", "cp-1-proxy", "cp", 21002) },
				map[string]string{"connect": "cp-1-proxy:21002 |cp-1 cp-2 \n"}},
		},
	},
	{
		name: "nested folders under safeTree and tree, keyOrDefault flips",
		setup: func(e *daemonEnv) {
			e.put("st/a/b/c", "1")
			e.put("st/a/", "")
			e.put("st/d", "2")
		},
		tmpls: map[string]string{
			"safeTree": `{{ range safeTree "st" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
			"tree":     `{{ range tree "st/a" }}{{ .Key }}={{ .Value }} {{ end }}|{{ range ls "st/a" }}{{ .Key }} {{ end }}` + "\n",
			"def":      `{{ keyOrDefault "kd/x" "def" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"safeTree": "a/b/c=1 d=2 \n", "tree": "b/c=1 |\n", "def": "def\n"}},
			{"the default's key appears", func(e *daemonEnv) { e.put("kd/x", "x1") },
				map[string]string{"safeTree": "a/b/c=1 d=2 \n", "tree": "b/c=1 |\n", "def": "x1\n"}},
			{"the nested key goes, its folder stays", func(e *daemonEnv) { e.del("st/a/b/c"); e.put("st/a/b/", "") },
				map[string]string{"safeTree": "d=2 \n", "tree": "|\n", "def": "x1\n"}},
			{"the default's key goes", func(e *daemonEnv) { e.del("kd/x") },
				map[string]string{"safeTree": "d=2 \n", "tree": "|\n", "def": "def\n"}},
			{"the tree emptied", func(e *daemonEnv) { e.delTree("st/") },
				map[string]string{"safeTree": "d=2 \n", "tree": "|\n", "def": "def\n"}},
			// An empty value is the default too, in both.
			{"deeper keys come", func(e *daemonEnv) { e.put("st/a/b/e/f", "3"); e.put("st/a/g", "4"); e.put("kd/x", "") },
				map[string]string{"safeTree": "a/b/e/f=3 a/g=4 \n", "tree": "b/e/f=3 g=4 |g \n", "def": "def\n"}},
		},
	},
	{
		name: "templates share dependencies, then do not",
		setup: func(e *daemonEnv) {
			e.put("sd/m", "1")
			e.put("sd/a", "a1")
			e.put("sd/b", "b1")
			e.reg("n1", "10.0.0.1", "sd-1", "sd", 1, api.HealthPassing)
		},
		tmpls: map[string]string{
			"t1": `{{ key "sd/a" }}|{{ range service "sd" }}{{ .Port }}{{ end }}` + "\n",
			"t2": `{{ if eq (key "sd/m") "1" }}{{ key "sd/a" }}|{{ range service "sd" }}{{ .Port }}{{ end }}` +
				`{{ else }}{{ key "sd/b" }}{{ end }}` + "\n",
			"t3": `{{ if eq (key "sd/m") "2" }}{{ key "sd/a" }}{{ end }}|{{ key "sd/b" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"t1": "a1|1\n", "t2": "a1|1\n", "t3": "|b1\n"}},
			{"a changes", func(e *daemonEnv) { e.put("sd/a", "a2") }, map[string]string{"t1": "a2|1\n", "t2": "a2|1\n", "t3": "|b1\n"}},
			{"the mode moves", func(e *daemonEnv) { e.put("sd/m", "2") }, map[string]string{"t1": "a2|1\n", "t2": "b1\n", "t3": "a2|b1\n"}},
			{"a and the service change", func(e *daemonEnv) {
				e.put("sd/a", "a3")
				e.reg("n1", "10.0.0.1", "sd-1", "sd", 2, api.HealthPassing)
			}, map[string]string{"t1": "a3|2\n", "t2": "b1\n", "t3": "a3|b1\n"}},
			{"nobody shares a", func(e *daemonEnv) { e.put("sd/m", "3") }, map[string]string{"t1": "a3|2\n", "t2": "b1\n", "t3": "|b1\n"}},
			{"a goes", func(e *daemonEnv) { e.del("sd/a") }, map[string]string{"t1": "a3|2\n", "t2": "b1\n", "t3": "|b1\n"}},
			{"everyone wants a again", func(e *daemonEnv) { e.put("sd/m", "1"); e.put("sd/b", "b2") },
				map[string]string{"t1": "a3|2\n", "t2": "a3|2\n", "t3": "|b2\n"}},
		},
	},
	{
		name: "defined blocks, executeTemplate and scratch",
		setup: func(e *daemonEnv) {
			e.put("dt/a", "1")
			e.put("dt/b", "2")
			e.put("dt/which", "dt/a")
		},
		tmpls: map[string]string{
			"define": `{{ define "blk" }}[{{ key . }}]{{ end }}{{ define "svc" }}{{ range service . }}{{ .Port }}{{ end }}{{ end }}` +
				`{{ executeTemplate "blk" (key "dt/which") }}|{{ template "blk" "dt/b" }}|{{ executeTemplate "svc" "ds" }}` + "\n",
			"scratch": `{{ if scratch.Key "seen" }}again{{ end }}{{ scratch.Set "seen" 1 }}` +
				`{{ range ls "dt" }}{{ scratch.MapSet "m" .Key .Value }}{{ end }}{{ scratch.MapValues "m" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"define": "[1]|[2]|\n", "scratch": "[1 2 dt/a]\n"}},
			{"the block's key moves", func(e *daemonEnv) { e.put("dt/which", "dt/b") },
				map[string]string{"define": "[2]|[2]|\n", "scratch": "[1 2 dt/b]\n"}},
			{"its value changes", func(e *daemonEnv) { e.put("dt/b", "3") },
				map[string]string{"define": "[3]|[3]|\n", "scratch": "[1 3 dt/b]\n"}},
			{"a service the block ranges over", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "ds-1", "ds", 7, api.HealthPassing) },
				map[string]string{"define": "[3]|[3]|7\n", "scratch": "[1 3 dt/b]\n"}},
			{"a key of the map goes", func(e *daemonEnv) { e.del("dt/a") },
				map[string]string{"define": "[3]|[3]|7\n", "scratch": "[3 dt/b]\n"}},
		},
	},
	{
		name: "outputs that stay the same while their dependencies change",
		setup: func(e *daemonEnv) {
			e.put("ns/x", "1")
			e.put("ns/l/a", "1")
			e.reg("n1", "10.0.0.1", "ns-1", "ns", 1, api.HealthPassing, "a")
		},
		tmpls: map[string]string{
			"exists": `{{ if keyExists "ns/x" }}yes{{ end }}|{{ len (ls "ns/l") }}` + "\n",
			"svc":    `{{ range service "ns" }}{{ .ID }} {{ end }}|{{ range services }}{{ .Name }} {{ end }}` + "\n",
			"moving": `{{ key "ns/x" }}` + "\n",
		},
		stable: []string{"exists", "svc"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"exists": "yes|1\n", "svc": "ns-1 |consul ns \n", "moving": "1\n"}},
			{"x's value changes", func(e *daemonEnv) { e.put("ns/x", "2") },
				map[string]string{"exists": "yes|1\n", "svc": "ns-1 |consul ns \n", "moving": "2\n"}},
			{"a listed value changes", func(e *daemonEnv) { e.put("ns/l/a", "2") },
				map[string]string{"exists": "yes|1\n", "svc": "ns-1 |consul ns \n", "moving": "2\n"}},
			{"the instance's port and tags change", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "ns-1", "ns", 2, api.HealthPassing, "b") },
				map[string]string{"exists": "yes|1\n", "svc": "ns-1 |consul ns \n", "moving": "2\n"}},
			{"x's value changes again", func(e *daemonEnv) { e.put("ns/x", "3") },
				map[string]string{"exists": "yes|1\n", "svc": "ns-1 |consul ns \n", "moving": "3\n"}},
		},
	},
	{
		name: "a node's own check moves",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "nc-1", "nc", 1, api.HealthPassing)
			e.reg("n2", "10.0.0.2", "nc-2", "nc", 2, api.HealthPassing)
			e.nodeCheck("n1", api.HealthPassing)
		},
		tmpls: map[string]string{
			"nc": `{{ range service "nc" }}{{ .ID }} {{ end }}|{{ range service "nc|any" }}{{ .ID }}/{{ .Status }}` +
				`{{ range .Checks }},{{ .CheckID }}={{ .Status }}{{ end }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"nc": "nc-1 nc-2 |nc-1/passing,node-check=passing,service:nc-1=passing " +
				"nc-2/passing,service:nc-2=passing \n"}},
			{"the node warns", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthWarning) },
				map[string]string{"nc": "nc-2 |nc-1/warning,node-check=warning,service:nc-1=passing " +
					"nc-2/passing,service:nc-2=passing \n"}},
			{"the node fails", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthCritical) },
				map[string]string{"nc": "nc-2 |nc-1/critical,node-check=critical,service:nc-1=passing " +
					"nc-2/passing,service:nc-2=passing \n"}},
			{"its check goes", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "n1", CheckID: "node-check"}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"nc": "nc-1 nc-2 |nc-1/passing,service:nc-1=passing nc-2/passing,service:nc-2=passing \n"}},
		},
	},
	{
		name: "services of the agent's own node",
		setup: func(e *daemonEnv) {
			if err := e.cl.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "own-1", Name: "own", Port: 1,
				Tags: []string{"a"}}); err != nil {
				e.t.Fatal(err)
			}
		},
		tmpls: map[string]string{
			"own": `{{ with node }}{{ .Node.Node }}:{{ range .Services }}{{ if ne .ID "consul" }}{{ .ID }}{{ .Tags }}:{{ .Port }} {{ end }}{{ end }}{{ end }}` +
				`|{{ range service "own|any" }}{{ .Status }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"own": "drcon-test:own-1[a]:1 |passing \n"}},
			{"a second instance", func(e *daemonEnv) {
				if err := e.cl.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "own-2", Name: "own", Port: 2}); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"own": "drcon-test:own-1[a]:1 own-2[]:2 |passing passing \n"}},
			{"the first in maintenance", func(e *daemonEnv) {
				if err := e.cl.Agent().EnableServiceMaintenance("own-1", "test"); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"own": "drcon-test:own-1[a]:1 own-2[]:2 |maintenance passing \n"}},
			{"the second goes", func(e *daemonEnv) {
				if err := e.cl.Agent().ServiceDeregister("own-2"); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"own": "drcon-test:own-1[a]:1 |maintenance \n"}},
			{"the first out of maintenance", func(e *daemonEnv) {
				if err := e.cl.Agent().DisableServiceMaintenance("own-1"); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"own": "drcon-test:own-1[a]:1 |passing \n"}},
		},
	},
	{
		name: "a key read by key in one template and keyOrDefault in another",
		setup: func(e *daemonEnv) {
			e.put("kk", "one")
			e.put("kk-sel", "1")
		},
		tmpls: map[string]string{
			"key": `{{ key "kk" }}` + "\n",
			"def": `{{ keyOrDefault "kk" "def" }}|{{ if eq (key "kk-sel") "2" }}{{ key "kk" }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"key": "one\n", "def": "one|\n"}},
			{"deleted", func(e *daemonEnv) { e.del("kk") }, map[string]string{"key": "one\n", "def": "def|\n"}},
			{"the other takes up key", func(e *daemonEnv) { e.put("kk-sel", "2") }, map[string]string{"key": "one\n", "def": "def|one\n"}},
			{"back", func(e *daemonEnv) { e.put("kk", "two") }, map[string]string{"key": "two\n", "def": "two|two\n"}},
		},
	},
	{
		name: "templates share dependencies under quiescence",
		args: []string{"-wait", "300ms:1s"},
		setup: func(e *daemonEnv) {
			e.put("wq/sel", "1")
			e.put("wq/x", "one")
			e.put("wq/y", "a")
		},
		tmpls: map[string]string{
			"t1": `{{ if eq (key "wq/sel") "1" }}{{ key "wq/x" }}{{ end }}|{{ key "wq/y" }}` + "\n",
			"t2": `{{ if eq (key "wq/sel") "2" }}{{ key "wq/x" }}{{ end }}|{{ key "wq/sel" }}` + "\n",
			"t3": `{{ key "wq/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"t1": "one|a\n", "t2": "|1\n", "t3": "a\n"}},
			{"x deleted, y changes", func(e *daemonEnv) { e.del("wq/x"); e.put("wq/y", "b") },
				map[string]string{"t1": "one|b\n", "t2": "|1\n", "t3": "b\n"}},
			{"the other template takes x", func(e *daemonEnv) { e.put("wq/sel", "2") },
				map[string]string{"t1": "|b\n", "t2": "one|2\n", "t3": "b\n"}},
			{"x back, y changes", func(e *daemonEnv) { e.put("wq/x", "two"); e.put("wq/y", "c") },
				map[string]string{"t1": "|c\n", "t2": "two|2\n", "t3": "c\n"}},
			{"and back", func(e *daemonEnv) { e.put("wq/sel", "1") },
				map[string]string{"t1": "two|c\n", "t2": "|1\n", "t3": "c\n"}},
		},
	},
	{
		name: "service meta changes under byMeta",
		setup: func(e *daemonEnv) {
			e.regMeta("n1", "10.0.0.1", "sm-1", "sm", 1, map[string]string{"v": "1"})
			e.regMeta("n1", "10.0.0.1", "sm-2", "sm", 2, map[string]string{"v": "1", "zone": "a"})
		},
		tmpls: map[string]string{
			"meta": `{{ range service "sm" }}{{ .ID }}{{ .ServiceMeta }} {{ end }}` +
				`|{{ range $v, $s := service "sm" | byMeta "v" }}{{ $v }}={{ range $s }}{{ .ID }},{{ end }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"meta": "sm-1map[v:1] sm-2map[v:1 zone:a] |1=sm-1,sm-2, \n"}},
			{"a version moves", func(e *daemonEnv) { e.regMeta("n1", "10.0.0.1", "sm-2", "sm", 2, map[string]string{"v": "2"}) },
				map[string]string{"meta": "sm-1map[v:1] sm-2map[v:2] |1=sm-1, 2=sm-2, \n"}},
			{"a meta goes", func(e *daemonEnv) { e.regMeta("n1", "10.0.0.1", "sm-1", "sm", 1, nil) },
				map[string]string{"meta": "sm-1map[] sm-2map[v:2] |2=sm-2, _no_v_=sm-1, \n"}},
		},
	},
	{
		// A file that does not exist (deleted, or not created yet) is left
		// out: consul-template exits on it, or not, as its file watcher's
		// stat and its executions race.
		name: "a key's value emptied",
		setup: func(e *daemonEnv) {
			e.put("ek", "")
			e.put("gk", "k1")
		},
		tmpls: map[string]string{
			"empty": `{{ key "ek" }}|{{ keyExists "ek" }}|{{ keyOrDefault "ek" "def" }}|{{ key "gk" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"empty": "|true|def|k1\n"}},
			{"a value", func(e *daemonEnv) { e.put("ek", "e") }, map[string]string{"empty": "e|true|e|k1\n"}},
			{"emptied", func(e *daemonEnv) { e.put("ek", "") }, map[string]string{"empty": "|true|def|k1\n"}},
			{"deleted", func(e *daemonEnv) { e.del("ek"); e.put("gk", "k2") }, map[string]string{"empty": "|false|def|k2\n"}},
		},
	},
	{
		name: "flags, indexes and locks of keys change, values do not",
		setup: func(e *daemonEnv) {
			e.put("fl/a", "1")
			e.put("fl/b", "2")
		},
		tmpls: map[string]string{
			"meta": `{{ range ls "fl" }}{{ .Key }}={{ .Value }}/{{ .Flags }}` +
				`{{ if gt .ModifyIndex .CreateIndex }}/modified{{ end }}{{ if .Session }}/locked{{ end }} {{ end }}` +
				`|{{ key "fl/a" }}` + "\n",
			"value": `{{ range tree "fl" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
		},
		stable: []string{"value"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"meta": "a=1/0 b=2/0 |1\n", "value": "a=1 b=2 \n"}},
			{"a's flags change", func(e *daemonEnv) {
				if _, err := e.cl.KV().Put(&api.KVPair{Key: "fl/a", Value: []byte("1"), Flags: 42}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"meta": "a=1/42/modified b=2/0 |1\n", "value": "a=1 b=2 \n"}},
			// Consul keeps the entry (and its indexes) as it was.
			{"b rewritten with its value", func(e *daemonEnv) { e.put("fl/b", "2") },
				map[string]string{"meta": "a=1/42/modified b=2/0 |1\n", "value": "a=1 b=2 \n"}},
			{"b locked", func(e *daemonEnv) {
				id, _, err := e.cl.Session().Create(&api.SessionEntry{Behavior: api.SessionBehaviorRelease}, nil)
				if err != nil {
					e.t.Fatal(err)
				}
				if ok, _, err := e.cl.KV().Acquire(&api.KVPair{Key: "fl/b", Value: []byte("2"), Session: id}, nil); err != nil || !ok {
					e.t.Fatalf("lock fl/b: %v %v", ok, err)
				}
			}, map[string]string{"meta": "a=1/42/modified b=2/0/modified/locked |1\n", "value": "a=1 b=2 \n"}},
		},
	},
	{
		name: "writeToFile overwrites across renders",
		setup: func(e *daemonEnv) {
			e.put("wf/x", "1")
			e.put("wf/y", "a")
		},
		tmpls: map[string]string{
			"wf": `{{ key "wf/x" | writeToFile "@OUT@/written" "" "" "0644" }}|{{ key "wf/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"wf": "|a\n", "written": "1"}},
			{"x changes", func(e *daemonEnv) { e.put("wf/x", "2") }, map[string]string{"wf": "|a\n", "written": "2"}},
			{"y changes", func(e *daemonEnv) { e.put("wf/y", "b") }, map[string]string{"wf": "|b\n", "written": "2"}},
			{"x deleted", func(e *daemonEnv) { e.del("wf/x") }, map[string]string{"wf": "|b\n", "written": "2"}},
		},
	},
	{
		name: "one key and prefix spelt several ways",
		setup: func(e *daemonEnv) {
			e.put("sl/k", "1")
			e.put("sl/d/e", "2")
			e.put("sel", "")
		},
		tmpls: map[string]string{
			"spelt": `{{ key "/sl/k" }}|{{ key "sl/k" }}|{{ range ls "sl/" }}{{ .Key }} {{ end }}|{{ range ls "/sl" }}{{ .Key }} {{ end }}` +
				`|{{ range tree "sl//d" }}{{ .Key }} {{ end }}` + "\n",
			"gated": `{{ if keyExists "sel" }}{{ key "sl/k" }}{{ else }}{{ key "/sl/k" }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"spelt": "1|1|k |k |sl/d/e \n", "gated": "1\n"}},
			{"the key changes", func(e *daemonEnv) { e.put("sl/k", "2") }, map[string]string{"spelt": "2|2|k |k |sl/d/e \n", "gated": "2\n"}},
			{"the key goes", func(e *daemonEnv) { e.del("sl/k") }, map[string]string{"spelt": "2|2|||sl/d/e \n", "gated": "2\n"}},
			{"the spelling switches", func(e *daemonEnv) { e.del("sel") }, map[string]string{"spelt": "2|2|||sl/d/e \n", "gated": "2\n"}},
			{"the key back", func(e *daemonEnv) { e.put("sl/k", "3") }, map[string]string{"spelt": "3|3|k |k |sl/d/e \n", "gated": "3\n"}},
		},
	},
	{
		name: "a template discovers a service another one watches",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "ra-1", "ra", 1, api.HealthPassing)
			e.put("reg/", "")
		},
		tmpls: map[string]string{
			"t1": `{{ range service "ra" }}{{ .Port }}{{ end }}` + "\n",
			"t2": `{{ range ls "reg" }}{{ .Key }}:{{ range service .Key }}{{ .Port }}{{ end }} {{ end }}` + "\n",
		},
		stable: []string{"t1"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"t1": "1\n", "t2": "\n"}},
			{"the watched one listed", func(e *daemonEnv) { e.put("reg/ra", "") }, map[string]string{"t1": "1\n", "t2": "ra:1 \n"}},
			{"a new one listed and registered", func(e *daemonEnv) {
				e.put("reg/rb", "")
				e.reg("n1", "10.0.0.1", "rb-1", "rb", 2, api.HealthPassing)
			}, map[string]string{"t1": "1\n", "t2": "ra:1 rb:2 \n"}},
			{"the watched one unlisted", func(e *daemonEnv) { e.del("reg/ra") }, map[string]string{"t1": "1\n", "t2": "rb:2 \n"}},
			{"the new one moves", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "rb-1", "rb", 3, api.HealthPassing) },
				map[string]string{"t1": "1\n", "t2": "rb:3 \n"}},
		},
	},
	{
		name: "a service's only check goes",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "oc-1", "oc", 1, api.HealthCritical)
			e.reg("n1", "10.0.0.1", "oc-2", "oc", 2, api.HealthPassing)
		},
		tmpls: map[string]string{
			"oc": `{{ range service "oc" }}{{ .ID }}/{{ .Status }}/{{ len .Checks }} {{ end }}` +
				`|{{ range service "oc|any" }}{{ .ID }}/{{ .Status }}/{{ len .Checks }} {{ end }}` +
				`|{{ range service "oc|critical" }}{{ .ID }} {{ end }}|{{ range service "oc" "passing,warning" }}{{ .ID }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"oc": "oc-2/passing/1 |oc-1/critical/1 oc-2/passing/1 |oc-1 |oc-2 \n"}},
			{"oc-1's check goes", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "n1", CheckID: "service:oc-1"}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"oc": "oc-1/passing/0 oc-2/passing/1 |oc-1/passing/0 oc-2/passing/1 ||oc-1 oc-2 \n"}},
			{"the node fails", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthCritical) },
				map[string]string{"oc": "|oc-1/critical/1 oc-2/critical/2 |oc-1 oc-2 |\n"}},
			{"the node warns", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthWarning) },
				map[string]string{"oc": "|oc-1/warning/1 oc-2/warning/2 ||oc-1 oc-2 \n"}},
			{"the node's check goes", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "n1", CheckID: "node-check"}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"oc": "oc-1/passing/0 oc-2/passing/1 |oc-1/passing/0 oc-2/passing/1 ||oc-1 oc-2 \n"}},
		},
	},
	{
		name: "a node check for many services at once",
		setup: func(e *daemonEnv) {
			for i := range 6 {
				e.reg("n1", "10.0.0.1", "mn-"+strconv.Itoa(i), "mn"+strconv.Itoa(i%3), i, api.HealthPassing)
			}
			e.reg("n2", "10.0.0.2", "mn-9", "mn0", 9, api.HealthPassing)
		},
		tmpls: map[string]string{
			"mn": `{{ range services }}{{ if ne .Name "consul" }}{{ .Name }}:{{ range service .Name }}{{ .Port }},{{ end }}` +
				`{{ range service (print .Name "|warning") }}w{{ .Port }},{{ end }} {{ end }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"mn": "mn0:0,3,9, mn1:1,4, mn2:2,5, \n"}},
			{"the node warns", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthWarning) },
				map[string]string{"mn": "mn0:9,w0,w3, mn1:w1,w4, mn2:w2,w5, \n"}},
			{"n2 fails too", func(e *daemonEnv) { e.nodeCheck("n2", api.HealthCritical) },
				map[string]string{"mn": "mn0:w0,w3, mn1:w1,w4, mn2:w2,w5, \n"}},
			{"both back", func(e *daemonEnv) { e.nodeCheck("n1", api.HealthPassing); e.nodeCheck("n2", api.HealthPassing) },
				map[string]string{"mn": "mn0:0,3,9, mn1:1,4, mn2:2,5, \n"}},
		},
	},
	{
		name: "tagged addresses of nodes and services change",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "ta-1", "ta", 1, api.HealthPassing)
		},
		tmpls: map[string]string{
			"nodes": `{{ range nodes }}{{ if ne .Node "drcon-test" }}{{ .Node }}{{ .TaggedAddresses }} {{ end }}{{ end }}` +
				`|{{ with node "n1" }}{{ .Node.TaggedAddresses.wan }}{{ end }}` + "\n",
			"svc": `{{ range service "ta" }}{{ .Address }}{{ .NodeTaggedAddresses }}{{ .ServiceTaggedAddresses }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"nodes": "n1map[] |\n", "svc": "10.0.0.1map[]map[] \n"}},
			{"a wan address", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
					TaggedAddresses: map[string]string{"lan": "10.0.0.1", "wan": "1.2.3.4"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"nodes": "n1map[lan:10.0.0.1 wan:1.2.3.4] |1.2.3.4\n", "svc": "10.0.0.1map[lan:10.0.0.1 wan:1.2.3.4]map[] \n"}},
			{"the wan address moves", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1",
					TaggedAddresses: map[string]string{"lan": "10.0.0.1", "wan": "1.2.3.5"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"nodes": "n1map[lan:10.0.0.1 wan:1.2.3.5] |1.2.3.5\n", "svc": "10.0.0.1map[lan:10.0.0.1 wan:1.2.3.5]map[] \n"}},
			{"the service gets its own", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1", SkipNodeUpdate: true,
					Service: &api.AgentService{ID: "ta-1", Service: "ta", Port: 1, Address: "10.1.1.1",
						TaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "5.6.7.8", Port: 99}}}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"nodes": "n1map[lan:10.0.0.1 wan:1.2.3.5] |1.2.3.5\n", "svc": "10.1.1.1map[lan:10.0.0.1 wan:1.2.3.5]map[wan:{5.6.7.8 99}] \n"}},
			{"the tagged addresses go", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.1"}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"nodes": "n1map[] |\n", "svc": "10.1.1.1map[]map[wan:{5.6.7.8 99}] \n"}},
		},
	},
	{
		name: "tags reordered and duplicated",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "to-1", "to", 1, api.HealthPassing, "b", "a")
			e.reg("n1", "10.0.0.1", "to-2", "to", 2, api.HealthPassing, "c")
		},
		tmpls: map[string]string{
			"svc":    `{{ range service "to" }}{{ .ID }}{{ .Tags }} {{ end }}` + "\n",
			"cat":    `{{ range services }}{{ .Name }}{{ .Tags }} {{ end }}` + "\n",
			"bytag":  `{{ range $t, $s := service "to" | byTag }}{{ $t }}={{ range $s }}{{ .ID }},{{ end }} {{ end }}` + "\n",
			"filter": `{{ range service "a.to" }}{{ .ID }} {{ end }}` + "\n",
		},
		stable: []string{"cat"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"svc": "to-1[a b] to-2[c] \n", "cat": "consul[] to[a b c] \n",
				"bytag": "a=to-1, b=to-1, c=to-2, \n", "filter": "to-1 \n"}},
			{"the order flips", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "to-1", "to", 1, api.HealthPassing, "a", "b") },
				map[string]string{"svc": "to-1[a b] to-2[c] \n", "cat": "consul[] to[a b c] \n",
					"bytag": "a=to-1, b=to-1, c=to-2, \n", "filter": "to-1 \n"}},
			{"another instance's tags reorder", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "to-2", "to", 2, api.HealthPassing, "c") },
				map[string]string{"svc": "to-1[a b] to-2[c] \n", "cat": "consul[] to[a b c] \n",
					"bytag": "a=to-1, b=to-1, c=to-2, \n", "filter": "to-1 \n"}},
			{"a duplicate tag", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "to-2", "to", 2, api.HealthPassing, "c", "a", "c") },
				map[string]string{"svc": "to-1[a b] to-2[a c c] \n", "cat": "consul[] to[a b c] \n",
					"bytag": "a=to-1,to-2, b=to-1, c=to-2,to-2, \n", "filter": "to-1 to-2 \n"}},
		},
	},
	{
		name: "slashes in keys and a folder key deleted",
		setup: func(e *daemonEnv) {
			e.put("sk/a", "1")
			e.put("sk/f/", "folder")
			e.put("sk/f/x", "2")
			e.put("sk/g/h/z", "4")
		},
		tmpls: map[string]string{
			"ls":   `{{ range ls "sk" }}[{{ .Key }}={{ .Value }}]{{ end }}|{{ range ls "sk/f" }}[{{ .Key }}={{ .Value }}]{{ end }}` + "\n",
			"tree": `{{ range tree "sk" }}[{{ .Key }}={{ .Value }}]{{ end }}|{{ range tree "sk/g/" }}[{{ .Key }}]{{ end }}` + "\n",
			"key":  `{{ key "sk/f/" }}|{{ keyExists "sk/f" }}|{{ keyOrDefault "sk/g/h/z" "d" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"ls": "[a=1]|[x=2]\n", "tree": "[a=1][f/x=2][g/h/z=4]|[h/z]\n", "key": "folder|false|4\n"}},
			{"the folder key goes", func(e *daemonEnv) { e.del("sk/f/") },
				map[string]string{"ls": "[a=1]|[x=2]\n", "tree": "[a=1][f/x=2][g/h/z=4]|[h/z]\n", "key": "folder|false|4\n"}},
			{"a key where the folder was", func(e *daemonEnv) { e.put("sk/f", "file") },
				map[string]string{"ls": "[a=1][f=file]|[x=2]\n", "tree": "[a=1][f=file][f/x=2][g/h/z=4]|[h/z]\n", "key": "folder|true|4\n"}},
			{"the deep key goes, a folder key stays", func(e *daemonEnv) { e.del("sk/g/h/z"); e.put("sk/g/h/", "") },
				map[string]string{"ls": "[a=1][f=file]|[x=2]\n", "tree": "[a=1][f=file][f/x=2]|\n", "key": "folder|true|d\n"}},
		},
	},
	{
		name: "a key deleted and re-created with the same value",
		setup: func(e *daemonEnv) {
			e.put("sv/x", "same")
			e.put("sv/y", "a")
		},
		tmpls: map[string]string{
			"def":  `{{ keyOrDefault "sv/x" "def" }}` + "\n",
			"with": `{{ with key "sv/x" }}[{{ . }}]{{ else }}none{{ end }}|{{ key "sv/y" }}` + "\n",
			"ex":   `{{ keyExists "sv/x" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"def": "same\n", "with": "[same]|a\n", "ex": "true\n"}},
			{"deleted", func(e *daemonEnv) { e.del("sv/x") }, map[string]string{"def": "def\n", "with": "[same]|a\n", "ex": "false\n"}},
			{"y changes", func(e *daemonEnv) { e.put("sv/y", "b") }, map[string]string{"def": "def\n", "with": "[same]|b\n", "ex": "false\n"}},
			{"re-created", func(e *daemonEnv) { e.put("sv/x", "same") }, map[string]string{"def": "same\n", "with": "[same]|b\n", "ex": "true\n"}},
			{"emptied", func(e *daemonEnv) { e.put("sv/x", "") }, map[string]string{"def": "def\n", "with": "none|b\n", "ex": "true\n"}},
		},
	},
	{
		name: "a connect proxy's check flips",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "cf-1", "cf", 80, api.HealthPassing)
			e.regProxy("n1", "10.0.0.1", "cf-1-proxy", "cf", 21000)
			e.regProxy("n2", "10.0.0.2", "cf-2-proxy", "cf", 21001)
		},
		tmpls: map[string]string{
			"connect": `{{ range connect "cf" }}{{ .ID }}/{{ .Status }} {{ end }}|{{ range connect "cf|any" }}{{ .ID }}/{{ .Status }} {{ end }}` +
				`|{{ range connect "cf|critical" }}{{ .ID }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"connect": "cf-1-proxy/passing cf-2-proxy/passing |cf-1-proxy/passing cf-2-proxy/passing |\n"}},
			{"a proxy fails", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n2", SkipNodeUpdate: true,
					Check: &api.AgentCheck{Node: "n2", CheckID: "service:cf-2-proxy", Name: "check cf-2-proxy", Status: api.HealthCritical,
						ServiceID: "cf-2-proxy"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"connect": "cf-1-proxy/passing |cf-1-proxy/passing cf-2-proxy/critical |cf-2-proxy \n"}},
			{"its node fails too", func(e *daemonEnv) { e.nodeCheck("n2", api.HealthCritical) },
				map[string]string{"connect": "cf-1-proxy/passing |cf-1-proxy/passing cf-2-proxy/critical |cf-2-proxy \n"}},
			{"the proxy passes, its node does not", func(e *daemonEnv) { e.regProxy("n2", "10.0.0.2", "cf-2-proxy", "cf", 21001) },
				map[string]string{"connect": "cf-1-proxy/passing |cf-1-proxy/passing cf-2-proxy/critical |cf-2-proxy \n"}},
			{"the node passes", func(e *daemonEnv) { e.nodeCheck("n2", api.HealthPassing) },
				map[string]string{"connect": "cf-1-proxy/passing cf-2-proxy/passing |cf-1-proxy/passing cf-2-proxy/passing |\n"}},
		},
	},
	{
		name: "a service's address empty, then set",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "ea-1", "ea", 1, api.HealthPassing)
		},
		tmpls: map[string]string{
			"svc":  `{{ range service "ea" }}{{ .Address }}/{{ .NodeAddress }} {{ end }}` + "\n",
			"node": `{{ with node "n1" }}{{ range .Services }}[{{ .Address }}]{{ end }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"svc": "10.0.0.1/10.0.0.1 \n", "node": "[]\n"}},
			{"the node moves", func(e *daemonEnv) { e.regNode("n1", "10.0.0.2", nil) },
				map[string]string{"svc": "10.0.0.2/10.0.0.2 \n", "node": "[]\n"}},
			{"the service gets an address", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", Address: "10.0.0.2", SkipNodeUpdate: true,
					Service: &api.AgentService{ID: "ea-1", Service: "ea", Port: 1, Address: "10.9.9.9"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"svc": "10.9.9.9/10.0.0.2 \n", "node": "[10.9.9.9]\n"}},
			{"and loses it", func(e *daemonEnv) { e.reg("n1", "10.0.0.2", "ea-1", "ea", 1, api.HealthPassing) },
				map[string]string{"svc": "10.0.0.2/10.0.0.2 \n", "node": "[]\n"}},
		},
	},
	{
		name: "values with invalid UTF-8 and NUL bytes, keys with odd characters",
		setup: func(e *daemonEnv) {
			e.put("bin/v", "a\x00b\xffc")
			e.put("bin/a b", "space")
			e.put("bin/ü+%2F", "odd")
		},
		tmpls: map[string]string{
			"raw":  `{{ key "bin/v" }}|{{ key "bin/a b" }}|{{ key "bin/ü+%2F" }}` + "\n",
			"ls":   `{{ range ls "bin" }}[{{ .Key }}={{ .Value | printf "%q" }}]{{ end }}` + "\n",
			"json": `{{ key "bin/v" | toJSON }}|{{ tree "bin" | explode | toJSON }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"raw": "a\x00b\xffc|space|odd\n", "ls": `[a b="space"][v="a\x00b\xffc"][ü+%2F="odd"]` + "\n",
				"json": `"a\u0000b\ufffdc"|{"a b":"space","v":"a\u0000b\ufffdc","ü+%2F":"odd"}` + "\n"}},
			{"the value changes", func(e *daemonEnv) { e.put("bin/v", "\xfe\x00") }, map[string]string{"raw": "\xfe\x00|space|odd\n",
				"ls": `[a b="space"][v="\xfe\x00"][ü+%2F="odd"]` + "\n", "json": `"\ufffd\u0000"|{"a b":"space","v":"\ufffd\u0000","ü+%2F":"odd"}` + "\n"}},
			{"the odd key goes", func(e *daemonEnv) { e.del("bin/ü+%2F") }, map[string]string{"raw": "\xfe\x00|space|odd\n",
				"ls": `[a b="space"][v="\xfe\x00"]` + "\n", "json": `"\ufffd\u0000"|{"a b":"space","v":"\ufffd\u0000"}` + "\n"}},
		},
	},
	{
		name: "a burst of 100 writes",
		setup: func(e *daemonEnv) {
			e.put("b100/k0", "0")
		},
		tmpls: map[string]string{
			"all":  `{{ range ls "b100" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
			"some": `{{ key "b100/k0" }}|{{ key "b100/k99" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"all": "k0=0 \n", "some": ""}},
			{"100 writes", func(e *daemonEnv) {
				for i := range 100 {
					e.put("b100/k"+strconv.Itoa(i%10*11), strconv.Itoa(i))
				}
			}, map[string]string{"all": "k0=90 k11=91 k22=92 k33=93 k44=94 k55=95 k66=96 k77=97 k88=98 k99=99 \n", "some": "90|99\n"}},
		},
	},
	{
		name: "caRoots across a CA rotation",
		tmpls: map[string]string{
			"roots": `{{ range caRoots }}{{ if .Active }}{{ .Name }}/{{ if .RootCertPEM }}pem{{ end }}{{ end }}{{ end }}|{{ len caRoots }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"roots": "Consul CA Primary Cert/pem|1\n"}},
			{"rotated", func(e *daemonEnv) {
				k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				if err != nil {
					e.t.Fatal(err)
				}
				der, err := x509.MarshalECPrivateKey(k)
				if err != nil {
					e.t.Fatal(err)
				}
				key := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
				if _, err := e.cl.Connect().CASetConfig(&api.CAConfig{Provider: "consul",
					Config: map[string]any{"PrivateKey": key}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"roots": "Consul CA Primary Cert/pem|2\n"}},
		},
	},
	{
		name: "changes inside a quiescence window, one going back",
		args: []string{"-wait", "1s:5s"},
		setup: func(e *daemonEnv) {
			e.put("qw/x", "1")
			e.put("qw/y", "a")
		},
		tmpls: map[string]string{
			"x": `{{ key "qw/x" }}` + "\n",
			"y": `{{ key "qw/y" }}` + "\n",
		},
		stable: []string{"y"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"x": "1\n", "y": "a\n"}},
			{"two changes", func(e *daemonEnv) { e.put("qw/x", "2"); time.Sleep(300 * time.Millisecond); e.put("qw/x", "3") },
				map[string]string{"x": "3\n", "y": "a\n"}},
			{"y changes and goes back", func(e *daemonEnv) { e.put("qw/y", "b"); time.Sleep(300 * time.Millisecond); e.put("qw/y", "a") },
				map[string]string{"x": "3\n", "y": "a\n"}},
			{"y deleted and re-created", func(e *daemonEnv) { e.del("qw/y"); time.Sleep(300 * time.Millisecond); e.put("qw/y", "a") },
				map[string]string{"x": "3\n", "y": "a\n"}},
		},
	},
	{
		name: "a plugin and a file change with a key",
		setup: func(e *daemonEnv) {
			e.write("plug.sh", "#!/bin/sh\necho \"[$*]\"\ncat \"$(dirname \"$0\")/pf\"\n")
			if err := os.Chmod(filepath.Join(e.dir, "plug.sh"), 0o755); err != nil {
				e.t.Fatal(err)
			}
			e.write("pf", "f1")
			e.put("pk", "k1")
		},
		tmpls: map[string]string{
			"plug": `{{ plugin "@DIR@/plug.sh" (key "pk") }}|{{ file "@DIR@/pf" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"plug": "[k1]\nf1|f1\n"}},
			{"the key", func(e *daemonEnv) { e.put("pk", "k2") }, map[string]string{"plug": "[k2]\nf1|f1\n"}},
			{"the file and the key", func(e *daemonEnv) { e.write("pf", "f2"); e.put("pk", "k3") }, map[string]string{"plug": "[k3]\nf2|f2\n"}},
		},
	},
	{
		name: "two templates with the same text",
		setup: func(e *daemonEnv) {
			e.put("sd1", "a")
		},
		tmpls: map[string]string{
			"twin1": `{{ key "sd1" }}` + "\n",
			"twin2": `{{ key "sd1" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"twin1": "a\n", "twin2": "a\n"}},
			{"the first", func(e *daemonEnv) { e.put("sd1", "c") }, map[string]string{"twin1": "c\n", "twin2": "c\n"}},
		},
	},
	{
		name: "near and datacenter spellings",
		setup: func(e *daemonEnv) {
			e.reg("n2", "10.0.0.2", "nr-2", "nr", 2, api.HealthPassing)
			e.reg("n1", "10.0.0.1", "nr-1", "nr", 1, api.HealthPassing)
			e.reg("n3", "10.0.0.3", "nr-3", "nr", 3, api.HealthPassing)
		},
		tmpls: map[string]string{
			"near":  `{{ range service "nr~_agent" }}{{ .ID }} {{ end }}|{{ range nodes "~_agent" }}{{ .Node }} {{ end }}` + "\n",
			"dc":    `{{ range service "nr@dc1" }}{{ .ID }} {{ end }}|{{ range nodes "@dc1" }}{{ .Node }} {{ end }}|{{ range services "@dc1" }}{{ .Name }} {{ end }}` + "\n",
			"nearn": `{{ range service "nr~n2" }}{{ .ID }} {{ end }}|{{ range nodes "~n3" }}{{ .Node }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"near": "nr-1 nr-2 nr-3 |drcon-test n1 n2 n3 \n",
				"dc": "nr-1 nr-2 nr-3 |drcon-test n1 n2 n3 |consul nr \n", "nearn": "nr-1 nr-2 nr-3 |drcon-test n1 n2 n3 \n"}},
			{"one goes critical", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "nr-1", "nr", 1, api.HealthCritical) },
				map[string]string{"near": "nr-3 nr-2 |drcon-test n1 n2 n3 \n", "dc": "nr-2 nr-3 |drcon-test n1 n2 n3 |consul nr \n",
					"nearn": "nr-3 nr-2 |drcon-test n1 n2 n3 \n"}},
			{"a node joins", func(e *daemonEnv) { e.reg("n0", "10.0.0.9", "nr-0", "nr", 9, api.HealthPassing) },
				map[string]string{"near": "nr-0 nr-3 nr-2 |drcon-test n0 n1 n2 n3 \n", "dc": "nr-0 nr-2 nr-3 |drcon-test n0 n1 n2 n3 |consul nr \n",
					"nearn": "nr-0 nr-3 nr-2 |drcon-test n0 n1 n2 n3 \n"}},
		},
	},
	{
		name: "a check's output and a service's weights change",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "co-1", "co", 1, api.HealthPassing)
		},
		tmpls: map[string]string{
			"out":    `{{ range service "co" }}{{ range .Checks }}{{ .Output }}{{ end }}{{ end }}` + "\n",
			"weight": `{{ range service "co" }}{{ .Weights.Passing }}/{{ .Weights.Warning }}{{ end }}` + "\n",
			"plain":  `{{ range service "co" }}{{ .ID }}{{ end }}` + "\n",
		},
		stable: []string{"plain"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"out": "\n", "weight": "1/1\n", "plain": "co-1\n"}},
			{"the output changes", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", SkipNodeUpdate: true,
					Check: &api.AgentCheck{Node: "n1", CheckID: "service:co-1", Name: "check co-1", Status: api.HealthPassing,
						ServiceID: "co-1", Output: "all good"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"out": "all good\n", "weight": "1/1\n", "plain": "co-1\n"}},
			{"the weights change", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", SkipNodeUpdate: true,
					Service: &api.AgentService{ID: "co-1", Service: "co", Port: 1, Weights: api.AgentWeights{Passing: 5, Warning: 2}}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"out": "all good\n", "weight": "5/2\n", "plain": "co-1\n"}},
		},
	},
	{
		name: "a destination edited by hand",
		setup: func(e *daemonEnv) {
			e.put("he/x", "1")
			e.put("he/y", "a")
		},
		tmpls: map[string]string{
			"he": `{{ if keyExists "he/x" }}x{{ end }}|{{ key "he/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"he": "x|a\n"}},
			{"edited, then a change that renders the same", func(e *daemonEnv) {
				e.write("ct/he", "edited\n")
				e.write("drcon/he", "edited\n")
				time.Sleep(300 * time.Millisecond)
				e.put("he/x", "2")
			}, map[string]string{"he": "x|a\n"}},
			{"deleted, then a change that renders the same", func(e *daemonEnv) {
				for _, who := range []string{"ct", "drcon"} {
					if err := os.Remove(filepath.Join(e.dir, who, "he")); err != nil {
						e.t.Fatal(err)
					}
				}
				time.Sleep(300 * time.Millisecond)
				e.put("he/x", "3")
			}, map[string]string{"he": "x|a\n"}},
			{"a change", func(e *daemonEnv) { e.put("he/y", "b") }, map[string]string{"he": "x|b\n"}},
		},
	},
	{
		// consul-template executes every template at each change of any
		// template's data (its issues #1140 and #1365 ask for this to stop:
		// CPU, and side effects run for nothing); drcon executes those whose
		// data changed. A plugin reading what is no dependency shows it.
		name: "a plugin's template while another template changes",
		ct:   map[string]map[string]string{"the other changes": {"side": "1|s2\n"}},
		setup: func(e *daemonEnv) {
			e.write("side", "s1")
			e.put("pc/x", "1")
			e.put("pc/y", "a")
		},
		tmpls: map[string]string{
			"side":  `{{ key "pc/x" }}|{{ plugin "cat" "@DIR@/side" }}` + "\n",
			"other": `{{ key "pc/y" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"side": "1|s1\n", "other": "a\n"}},
			{"the other changes", func(e *daemonEnv) { e.write("side", "s2"); e.put("pc/y", "b") },
				map[string]string{"side": "1|s1\n", "other": "b\n"}},
			{"its own changes", func(e *daemonEnv) { e.put("pc/x", "2") }, map[string]string{"side": "2|s2\n", "other": "b\n"}},
		},
	},
	{
		// A link re-pointed in the middle of the path (update-alternatives,
		// a deploy's "current" directory) comes as no event at the file:
		// consul-template polls the file's size and time, drcon missed it.
		name: "a file read through a chain of symlinks",
		setup: func(e *daemonEnv) {
			for _, d := range []string{"a", "b", "alt", "r1", "r2"} {
				if err := os.Mkdir(filepath.Join(e.dir, d), 0o755); err != nil {
					e.t.Fatal(err)
				}
			}
			e.write("a/f", "one")
			e.write("b/f", "two")
			for _, l := range [][2]string{{"a/f", "alt/cur"}, {"alt/cur", "link"}} {
				if err := os.Symlink(filepath.Join(e.dir, l[0]), filepath.Join(e.dir, l[1])); err != nil {
					e.t.Fatal(err)
				}
			}
			e.write("r1/c", "r1")
			e.write("r2/c", "r2!")
			if err := os.Symlink("r1", filepath.Join(e.dir, "current")); err != nil {
				e.t.Fatal(err)
			}
			e.put("lk", "k1")
		},
		tmpls: map[string]string{
			"link": `{{ file "@DIR@/link" }}|{{ key "lk" }}` + "\n",
			"dir":  `{{ file "@DIR@/current/c" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"link": "one|k1\n", "dir": "r1\n"}},
			{"the target edited", func(e *daemonEnv) { e.write("a/f", "one!") }, map[string]string{"link": "one!|k1\n", "dir": "r1\n"}},
			{"the middle link re-pointed", func(e *daemonEnv) {
				if err := os.Symlink(filepath.Join(e.dir, "b/f"), filepath.Join(e.dir, "alt/cur.new")); err != nil {
					e.t.Fatal(err)
				}
				if err := os.Rename(filepath.Join(e.dir, "alt/cur.new"), filepath.Join(e.dir, "alt/cur")); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"link": "two|k1\n", "dir": "r1\n"}},
			{"the new target edited", func(e *daemonEnv) { e.write("b/f", "two!") }, map[string]string{"link": "two!|k1\n", "dir": "r1\n"}},
			{"the directory link re-pointed", func(e *daemonEnv) {
				if err := os.Symlink("r2", filepath.Join(e.dir, "current.new")); err != nil {
					e.t.Fatal(err)
				}
				if err := os.Rename(filepath.Join(e.dir, "current.new"), filepath.Join(e.dir, "current")); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"link": "two!|k1\n", "dir": "r2!\n"}},
		},
	},
	{
		name: "deeper keys change under ls, folders under tree",
		setup: func(e *daemonEnv) {
			e.put("dl/a", "1")
			e.put("dl/d/x", "2")
		},
		tmpls: map[string]string{
			"ls":   `{{ range ls "dl" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
			"tree": `{{ range tree "dl" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
			"sls":  `{{ range safeLs "dl" }}{{ .Key }} {{ end }}` + "\n",
		},
		stable: []string{"ls", "sls"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"ls": "a=1 \n", "tree": "a=1 d/x=2 \n", "sls": "a \n"}},
			{"a deeper key changes", func(e *daemonEnv) { e.put("dl/d/x", "3") }, map[string]string{"ls": "a=1 \n", "tree": "a=1 d/x=3 \n", "sls": "a \n"}},
			{"a folder key appears", func(e *daemonEnv) { e.put("dl/e/", "") }, map[string]string{"ls": "a=1 \n", "tree": "a=1 d/x=3 \n", "sls": "a \n"}},
			{"a deeper key goes", func(e *daemonEnv) { e.del("dl/d/x") }, map[string]string{"ls": "a=1 \n", "tree": "a=1 \n", "sls": "a \n"}},
		},
	},
	{
		name: "a template's own wait beside one without, sharing a key",
		setup: func(e *daemonEnv) {
			e.write("w1.ctmpl", `{{ key "tw/x" }}|{{ key "tw/y" }}`+"\n")
			e.put("tw/x", "1")
			e.put("tw/y", "a")
		},
		config: `template {
  source = "@DIR@/w1.ctmpl"
  destination = "@OUT@/waited"
  wait {
    min = "1s"
    max = "3s"
  }
}
`,
		tmpls: map[string]string{
			"now": `{{ key "tw/x" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"waited": "1|a\n", "now": "1\n"}},
			{"x twice", func(e *daemonEnv) { e.put("tw/x", "2"); time.Sleep(300 * time.Millisecond); e.put("tw/x", "3") },
				map[string]string{"waited": "3|a\n", "now": "3\n"}},
			{"a stream of changes past max", func(e *daemonEnv) {
				for i := range 12 {
					e.put("tw/y", "s"+strconv.Itoa(i))
					time.Sleep(400 * time.Millisecond)
				}
			}, map[string]string{"waited": "3|s11\n", "now": "3\n"}},
		},
	},
	{
		name:   "zz one template fails while others render (template_error_fatal = false)",
		config: `template_error_fatal = false`,
		setup: func(e *daemonEnv) {
			e.put("fe/j", `{"a":1}`)
			e.put("fe/y", "a")
		},
		tmpls: map[string]string{
			"json":  `{{ (key "fe/j" | parseJSON).a }}|{{ key "fe/y" }}` + "\n",
			"other": `{{ key "fe/y" }}` + "\n",
			"fixed": `static` + "\n",
		},
		stable: []string{"fixed"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"json": "1|a\n", "other": "a\n", "fixed": "static\n"}},
			{"the JSON breaks", func(e *daemonEnv) { e.put("fe/j", `{"a":`) }, map[string]string{"json": "1|a\n", "other": "a\n", "fixed": "static\n"}},
			{"y changes", func(e *daemonEnv) { e.put("fe/y", "b") }, map[string]string{"json": "1|a\n", "other": "b\n", "fixed": "static\n"}},
			{"the JSON mended to the same", func(e *daemonEnv) { e.put("fe/j", `{"a": 1}`); e.put("fe/y", "a") },
				map[string]string{"json": "1|a\n", "other": "a\n", "fixed": "static\n"}},
			{"and changed", func(e *daemonEnv) { e.put("fe/j", `{"a":2}`) }, map[string]string{"json": "2|a\n", "other": "a\n", "fixed": "static\n"}},
		},
	},
	{
		name: "a file touched and chmodded, its content unchanged",
		setup: func(e *daemonEnv) {
			e.write("tf", "content")
			e.put("tk", "1")
		},
		tmpls: map[string]string{
			"file": `{{ file "@DIR@/tf" }}` + "\n",
			"key":  `{{ key "tk" }}` + "\n",
		},
		stable: []string{"file"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"file": "content\n", "key": "1\n"}},
			{"touched", func(e *daemonEnv) {
				now := time.Now().Add(time.Minute)
				if err := os.Chtimes(filepath.Join(e.dir, "tf"), now, now); err != nil {
					e.t.Fatal(err)
				}
				time.Sleep(2500 * time.Millisecond) // consul-template polls every 2s
				e.put("tk", "2")
			}, map[string]string{"file": "content\n", "key": "2\n"}},
			{"chmodded", func(e *daemonEnv) {
				if err := os.Chmod(filepath.Join(e.dir, "tf"), 0o600); err != nil {
					e.t.Fatal(err)
				}
				time.Sleep(2500 * time.Millisecond)
				e.put("tk", "3")
			}, map[string]string{"file": "content\n", "key": "3\n"}},
			{"rewritten with the same bytes", func(e *daemonEnv) {
				e.write("tf", "content")
				time.Sleep(2500 * time.Millisecond)
				e.put("tk", "4")
			}, map[string]string{"file": "content\n", "key": "4\n"}},
		},
	},
	{
		name: "a node that does not exist yet, a service renamed",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "rn-1", "old", 1, api.HealthPassing)
		},
		tmpls: map[string]string{
			"node": `{{ with node "nx" }}{{ with .Node }}{{ .Node }}{{ else }}none{{ end }}:{{ range .Services }}{{ .ID }} {{ end }}{{ end }}` + "\n",
			"svc":  `{{ range service "old" }}{{ .ID }}{{ end }}|{{ range service "new" }}{{ .ID }}{{ end }}|{{ range services }}{{ .Name }} {{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"node": "none:\n", "svc": "rn-1||consul old \n"}},
			{"the node appears", func(e *daemonEnv) { e.reg("nx", "10.0.0.5", "nx-1", "nxs", 5, api.HealthPassing) },
				map[string]string{"node": "nx:nx-1 \n", "svc": "rn-1||consul nxs old \n"}},
			{"the service renamed", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "rn-1", "new", 1, api.HealthPassing) },
				map[string]string{"node": "nx:nx-1 \n", "svc": "|rn-1|consul new nxs \n"}},
			{"the node goes", func(e *daemonEnv) { e.deregNode("nx") },
				map[string]string{"node": "none:\n", "svc": "|rn-1|consul new \n"}},
		},
	},
	{
		name: "a safe prefix deleted and re-created as it was",
		setup: func(e *daemonEnv) {
			e.put("sp/a", "1")
			e.put("sp/b/c", "2")
		},
		tmpls: map[string]string{
			"stree": `{{ range safeTree "sp" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
			"sls":   `{{ range safeLs "sp" }}{{ .Key }}={{ .Value }} {{ end }}` + "\n",
		},
		stable: []string{"stree", "sls"},
		steps: []daemonStep{
			{"start", nil, map[string]string{"stree": "a=1 b/c=2 \n", "sls": "a=1 \n"}},
			{"deleted", func(e *daemonEnv) { e.delTree("sp/") }, map[string]string{"stree": "a=1 b/c=2 \n", "sls": "a=1 \n"}},
			{"re-created", func(e *daemonEnv) {
				ok, _, _, err := e.cl.KV().Txn(api.KVTxnOps{{Verb: api.KVSet, Key: "sp/a", Value: []byte("1")},
					{Verb: api.KVSet, Key: "sp/b/c", Value: []byte("2")}}, nil)
				if err != nil || !ok {
					e.t.Fatalf("txn: %v %v", ok, err)
				}
			}, map[string]string{"stree": "a=1 b/c=2 \n", "sls": "a=1 \n"}},
		},
	},
	{
		name: "a destination's directory removed",
		setup: func(e *daemonEnv) {
			e.write("sub.ctmpl", `{{ key "dd/x" }}`+"\n")
			e.put("dd/x", "1")
		},
		config: `template {
  source = "@DIR@/sub.ctmpl"
  destination = "@OUT@/sub/x"
}
`,
		steps: []daemonStep{
			{"start", nil, map[string]string{"sub/x": "1\n"}},
			{"the directory removed, the key changes", func(e *daemonEnv) {
				for _, who := range []string{"ct", "drcon"} {
					if err := os.RemoveAll(filepath.Join(e.dir, who, "sub")); err != nil {
						e.t.Fatal(err)
					}
				}
				e.put("dd/x", "2")
			}, map[string]string{"sub/x": "2\n"}},
		},
	},
	{
		name: "two checks of one service, one flips",
		setup: func(e *daemonEnv) {
			e.reg("n1", "10.0.0.1", "tc-1", "tc", 1, api.HealthPassing)
			if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", SkipNodeUpdate: true,
				Check: &api.AgentCheck{Node: "n1", CheckID: "a-first", Name: "first", Status: api.HealthPassing, ServiceID: "tc-1"}}, nil); err != nil {
				e.t.Fatal(err)
			}
		},
		tmpls: map[string]string{
			"checks": `{{ range service "tc|any" }}{{ .Status }}:{{ range .Checks }}{{ .CheckID }}={{ .Status }},{{ end }}{{ end }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"checks": "passing:a-first=passing,service:tc-1=passing,\n"}},
			{"the second warns", func(e *daemonEnv) { e.reg("n1", "10.0.0.1", "tc-1", "tc", 1, api.HealthWarning) },
				map[string]string{"checks": "warning:a-first=passing,service:tc-1=warning,\n"}},
			{"the first fails", func(e *daemonEnv) {
				if _, err := e.cl.Catalog().Register(&api.CatalogRegistration{Node: "n1", SkipNodeUpdate: true,
					Check: &api.AgentCheck{Node: "n1", CheckID: "a-first", Name: "first", Status: api.HealthCritical, ServiceID: "tc-1"}}, nil); err != nil {
					e.t.Fatal(err)
				}
			}, map[string]string{"checks": "critical:a-first=critical,service:tc-1=warning,\n"}},
		},
	},
	{
		name: "a large value and a large tree",
		setup: func(e *daemonEnv) {
			e.put("big/v", strings.Repeat("a", 400000))
			for i := range 300 {
				e.put("big/t/"+strconv.Itoa(i), strconv.Itoa(i))
			}
		},
		tmpls: map[string]string{
			"big": `{{ key "big/v" | len }}|{{ len (tree "big/t") }}|{{ printf "%.3s" (key "big/v") }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"big": "400000|300|aaa\n"}},
			{"the value changes", func(e *daemonEnv) { e.put("big/v", strings.Repeat("b", 500000)) }, map[string]string{"big": "500000|300|bbb\n"}},
			{"the tree deleted", func(e *daemonEnv) { e.delTree("big/t/") }, map[string]string{"big": "500000|0|bbb\n"}},
		},
	},
	{
		name: "backups across changes",
		setup: func(e *daemonEnv) {
			e.write("bk.ctmpl", `{{ key "bk/x" }}`+"\n")
			e.put("bk/x", "1")
		},
		config: `template {
  source = "@DIR@/bk.ctmpl"
  destination = "@OUT@/bk"
  backup = true
}
`,
		steps: []daemonStep{
			{"start", nil, map[string]string{"bk": "1\n", "bk.bak": ""}},
			{"a change", func(e *daemonEnv) { e.put("bk/x", "2") }, map[string]string{"bk": "2\n", "bk.bak": "1\n"}},
			{"another", func(e *daemonEnv) { e.put("bk/x", "3") }, map[string]string{"bk": "3\n", "bk.bak": "2\n"}},
			{"edited by hand, then a change", func(e *daemonEnv) {
				e.write("ct/bk", "hand\n")
				e.write("drcon/bk", "hand\n")
				e.put("bk/x", "4")
			}, map[string]string{"bk": "4\n", "bk.bak": "hand\n"}},
		},
	},
	{
		name: "two templates share one command",
		setup: func(e *daemonEnv) {
			e.write("c1.ctmpl", `{{ key "cm/x" }}|{{ key "cm/y" }}`+"\n")
			e.write("c2.ctmpl", `{{ key "cm/x" }}`+"\n")
			e.put("cm/x", "1")
			e.put("cm/y", "a")
		},
		config: `template {
  source = "@DIR@/c1.ctmpl"
  destination = "@OUT@/c1"
  command = "if [ -e @OUT@/counting ]; then cat @OUT@/c1 @OUT@/c2 >> @OUT@/runs; fi"
}
template {
  source = "@DIR@/c2.ctmpl"
  destination = "@OUT@/c2"
  command = "if [ -e @OUT@/counting ]; then cat @OUT@/c1 @OUT@/c2 >> @OUT@/runs; fi"
}
`,
		steps: []daemonStep{
			{"start", nil, map[string]string{"c1": "1|a\n", "c2": "1\n"}},
			{"both change", func(e *daemonEnv) {
				e.write("ct/counting", "")
				e.write("drcon/counting", "")
				e.put("cm/x", "2")
			}, map[string]string{"c1": "2|a\n", "c2": "2\n", "runs": "2|a\n2\n"}},
			{"one changes", func(e *daemonEnv) { e.put("cm/y", "b") }, map[string]string{"c1": "2|b\n", "c2": "2\n", "runs": "2|a\n2\n2|b\n2\n"}},
		},
	},
	{
		name: "a change while the command runs",
		setup: func(e *daemonEnv) {
			e.write("sl.ctmpl", `{{ key "cs/x" }}`+"\n")
			e.put("cs/x", "1")
		},
		config: `template {
  source = "@DIR@/sl.ctmpl"
  destination = "@OUT@/sl"
  command = "cat @OUT@/sl >> @OUT@/runs; sleep 2"
}
`,
		steps: []daemonStep{
			{"start", nil, map[string]string{"sl": "1\n", "runs": "1\n"}},
			{"two changes a second apart", func(e *daemonEnv) {
				time.Sleep(3 * time.Second) // the first command's end
				e.write("ct/runs", "")
				e.write("drcon/runs", "")
				e.put("cs/x", "2")
				time.Sleep(time.Second)
				e.put("cs/x", "3")
			}, map[string]string{"sl": "3\n", "runs": "2\n3\n"}},
		},
	},
	{
		name: "a file and a key change inside a quiescence window",
		args: []string{"-wait", "1s:4s"},
		setup: func(e *daemonEnv) {
			e.write("wf", "f1")
			e.put("wfk", "k1")
		},
		tmpls: map[string]string{
			"wf": `{{ file "@DIR@/wf" }}|{{ key "wfk" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"wf": "f1|k1\n"}},
			{"the key, then the file", func(e *daemonEnv) { e.put("wfk", "k2"); time.Sleep(300 * time.Millisecond); e.write("wf", "f2") },
				map[string]string{"wf": "f2|k2\n"}},
			{"the file, then the key", func(e *daemonEnv) { e.write("wf", "f3"); time.Sleep(300 * time.Millisecond); e.put("wfk", "k3") },
				map[string]string{"wf": "f3|k3\n"}},
		},
	},
	{
		name: "a key and the prefix of the same name",
		setup: func(e *daemonEnv) {
			e.put("pp", "top")
			e.put("pp/a", "1")
			e.put("ppx/b", "2")
		},
		tmpls: map[string]string{
			"pp": `{{ range ls "pp" }}{{ .Key }}={{ .Value }} {{ end }}|{{ range tree "pp" }}{{ .Key }}={{ .Value }} {{ end }}` +
				`|{{ key "pp" }}|{{ keyExists "pp/" }}` + "\n",
		},
		steps: []daemonStep{
			{"start", nil, map[string]string{"pp": "a=1 |a=1 x/b=2 |top|false\n"}},
			{"the child goes", func(e *daemonEnv) { e.del("pp/a") }, map[string]string{"pp": "|x/b=2 |top|false\n"}},
			{"the folder key appears", func(e *daemonEnv) { e.put("pp/", "folder") }, map[string]string{"pp": "|x/b=2 |top|true\n"}},
			{"the top key changes", func(e *daemonEnv) { e.put("pp", "top2") }, map[string]string{"pp": "|x/b=2 |top2|true\n"}},
		},
	},
}

// TestDaemonChanges: consul-template v0.41.1 and drcon run as daemons over
// the same templates while daemonCases change Consul (and files) step by
// step; after each step, both daemons' files must reach the same bytes. The
// states include those where a fresh consul-template -once would wait or
// fail (a deleted key, an empty safeLs), which only a daemon's memory of
// earlier answers decides.
func TestDaemonChanges(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	for _, dc := range daemonCases {
		t.Run(dc.name, func(t *testing.T) { runDaemonCase(t, ctBin, bin, dc) })
	}
}

func runDaemonCase(t *testing.T, ctBin, bin string, dc daemonCase) {
	c := testenv.StartConsul(t)
	e := &daemonEnv{t: t, c: c, cl: c.Client(), dir: t.TempDir()}
	if dc.setup != nil {
		dc.setup(e)
	}
	e.put("barrier", "start")
	tmpls := map[string]string{"barrier": `{{ key "barrier" }}`}
	maps.Copy(tmpls, dc.tmpls)
	names := slices.Sorted(maps.Keys(tmpls))
	args := map[string][]string{}
	for _, who := range []string{"ct", "drcon"} {
		out := filepath.Join(e.dir, who)
		if err := os.Mkdir(out, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			src := filepath.Join(e.dir, who+"-"+n+".ctmpl")
			text := strings.NewReplacer("@DIR@", e.dir, "@OUT@", out).Replace(tmpls[n])
			if err := os.WriteFile(src, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			args[who] = append(args[who], "-template", src+":"+filepath.Join(out, n))
		}
	}
	// The files checked: the destinations, and those templates write
	// themselves.
	files := slices.Clone(names)
	for _, st := range dc.steps {
		for n := range st.want {
			if !slices.Contains(files, n) {
				files = append(files, n)
			}
		}
	}
	if dc.config != "" {
		for _, who := range []string{"ct", "drcon"} {
			cfg := filepath.Join(e.dir, who+"-config.hcl")
			text := strings.NewReplacer("@DIR@", e.dir, "@OUT@", filepath.Join(e.dir, who)).Replace(dc.config)
			if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			args[who] = append(args[who], "-config", cfg)
		}
	}
	ctDone := startDaemon(t, ctBin, append(append([]string{"-consul-addr", c.Addr, "-log-level", "err"}, dc.args...), args["ct"]...)...)
	drDone := startDaemon(t, bin, append(append([]string{"-consul-addr", c.Addr, "-log-level", "warn"}, dc.args...), args["drcon"]...)...)

	first := map[string]fileStamp{}
	for i, st := range dc.steps {
		if st.do != nil {
			// Both programs space the queries of one dependency by 100ms
			// and a random fifth of it: changes made within that time of a
			// dependency's last answer can reach each of them in another
			// order than they were made (a new value of one key before an
			// emptied safeLs, whose file then keeps the new value), a race
			// that a settled file should not depend on.
			time.Sleep(200 * time.Millisecond)
			st.do(e)
		}
		mark := "step " + strconv.Itoa(i)
		if i == 0 {
			mark = "start"
		}
		e.put("barrier", mark)
		want := map[string]map[string]string{"ct": maps.Clone(st.want), "drcon": maps.Clone(st.want)}
		maps.Copy(want["ct"], dc.ct[st.name])
		for _, w := range want {
			w["barrier"] = mark
		}
		// The barrier first: once both rendered it, they had the step's
		// changes too (they came before it), and a file that must stay as it
		// was is then checked for real.
		for _, only := range []bool{true, false} {
			var behind []string
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				select {
				case <-ctDone:
					t.Fatalf("%s: consul-template exited", st.name)
				case <-drDone:
					t.Fatalf("%s: drcon exited", st.name)
				default:
				}
				behind = behind[:0]
				for _, n := range files {
					if only && n != "barrier" {
						continue
					}
					for _, who := range []string{"ct", "drcon"} {
						got, _ := os.ReadFile(filepath.Join(e.dir, who, n))
						if !bytes.Equal(got, []byte(want[who][n])) {
							behind = append(behind, fmt.Sprintf("%s %s: %q", who, n, got))
						}
					}
				}
				if len(behind) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: want %q; behind:\n%s", st.name, want, strings.Join(behind, "\n"))
				}
			}
		}
		for _, n := range dc.stable {
			for _, who := range []string{"ct", "drcon"} {
				path := filepath.Join(e.dir, who, n)
				got := stamp(t, path)
				if was, ok := first[path]; !ok {
					first[path] = got
				} else if got != was {
					t.Errorf("%s: %s rewrote %s (same content): %+v, was %+v", st.name, who, n, got, was)
				}
			}
		}
	}
}

// fileStamp is what a rewrite of a file changes, even with the same bytes.
type fileStamp struct {
	ino          uint64
	mtime, ctime syscall.Timespec
}

func stamp(t *testing.T, path string) fileStamp {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fileStamp{ino: st.Ino, mtime: st.Mtim, ctime: st.Ctim}
}
