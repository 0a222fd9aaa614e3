package compat

import (
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"
)

// daemonCases are the sequences of changes TestDaemonChanges runs first:
// each kind of change that a daemon meets.
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
}
