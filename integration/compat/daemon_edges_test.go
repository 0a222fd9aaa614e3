package compat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
)

// daemonEdgeCases are the edges of those changes: checks removed and
// flapping under each filter, odd addresses, keys and values, changes inside
// and past quiescence windows, files and destinations touched by hand.
var daemonEdgeCases = []daemonCase{
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
				// consul-template renders every template on any change: had
				// the step's barrier reached it before bk/x did, it would
				// have put "3" back over the hand edit first.
				e.waitFor("bk", "4\n")
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
