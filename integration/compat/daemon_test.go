package compat

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	tmpls map[string]string  // name: text; "@DIR@" is the case's directory
	args  []string           // more flags for both daemons
	// config is a configuration file both read (-config), in the syntax
	// both take.
	config string
	steps  []daemonStep
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
	tmpls := maps.Clone(dc.tmpls)
	tmpls["barrier"] = `{{ key "barrier" }}`
	names := slices.Sorted(maps.Keys(tmpls))
	var ctArgs, drArgs []string
	for _, n := range names {
		src := filepath.Join(e.dir, n+".ctmpl")
		if err := os.WriteFile(src, []byte(strings.ReplaceAll(tmpls[n], "@DIR@", e.dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		ctArgs = append(ctArgs, "-template", src+":"+filepath.Join(e.dir, "ct", n))
		drArgs = append(drArgs, "-template", src+":"+filepath.Join(e.dir, "drcon", n))
	}
	if dc.config != "" {
		cfg := filepath.Join(e.dir, "config.hcl")
		if err := os.WriteFile(cfg, []byte(dc.config), 0o644); err != nil {
			t.Fatal(err)
		}
		ctArgs = append(ctArgs, "-config", cfg)
		drArgs = append(drArgs, "-config", cfg)
	}
	ctDone := startDaemon(t, ctBin, append(append([]string{"-consul-addr", c.Addr, "-log-level", "err"}, dc.args...), ctArgs...)...)
	drDone := startDaemon(t, bin, append(append([]string{"-consul-addr", c.Addr, "-log-level", "warn"}, dc.args...), drArgs...)...)

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
		want := maps.Clone(st.want)
		want["barrier"] = mark
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
				for _, n := range names {
					if only && n != "barrier" {
						continue
					}
					for _, who := range []string{"ct", "drcon"} {
						got, _ := os.ReadFile(filepath.Join(e.dir, who, n))
						if !bytes.Equal(got, []byte(want[n])) {
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
	}
}
