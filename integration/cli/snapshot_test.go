package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// TestSnapshotOffline: `drcon snapshot` saves the data the templates use;
// `drcon -once -data` then renders the very same bytes with Consul stopped,
// for every kind of dependency the templates read.
func TestSnapshotOffline(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/name", "shop")
	c.PutKV("app/limits/cpu", "2")
	c.PutKV("app/limits/mem", "512M")
	c.PutKV("app/limits/deep/x", "1")
	c.Register(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Tags: []string{"blue"}, Address: "127.0.0.1", Port: 8081})
	c.Register(&api.AgentServiceRegistration{ID: "web-2", Name: "web", Tags: []string{"green"}, Address: "127.0.0.1", Port: 8082})
	c.Register(&api.AgentServiceRegistration{ID: "db-1", Name: "db", Tags: []string{"primary"}, Port: 5432})

	templates := map[string]string{
		"kv.ctmpl": `name={{ key "app/name" }} missing={{ keyOrDefault "app/missing" "none" }} exists={{ keyExists "app/name" }}
{{ range ls "app/limits" }}{{ .Key }}={{ .Value }}
{{ end }}{{ range tree "app/limits" }}{{ .Key }}={{ .Value }} {{ end }}
`,
		"services.ctmpl": `{{ range services }}{{ .Name }} {{ .Tags }}
{{ range service .Name }}  {{ .ID }} {{ .Address }}:{{ .Port }} {{ .Status }}
{{ end }}{{ end }}{{ range service "blue.web" }}blue={{ .Port }}{{ end }}
`,
		"nodes.ctmpl": `{{ range nodes }}{{ .Node }} {{ .Address }}
{{ end }}{{ with node }}{{ .Node.Node }} has {{ len .Services }} services{{ end }}
`,
	}
	dir := t.TempDir()
	files := map[string]string{}
	conf := "consul { address = \"" + c.Addr + "\" }\n"
	for name, text := range templates {
		files[name] = text
		base := strings.TrimSuffix(name, ".ctmpl")
		conf += "template \"" + base + "\" {\n  source = \"" + name + "\"\n  destination = \"$DIR/out/" + base + ".conf\"\n}\n"
	}
	files["drcon.hcl"] = conf
	writeFiles(t, dir, files)

	expect(t, "-once on live data", drcon(t, dir, "-once", "-config", "drcon.hcl"), 0)
	expect(t, "snapshot", drcon(t, dir, "snapshot", "-config", "drcon.hcl", "-o", "state.json"), 0)
	if !strings.Contains(read(t, dir, "state.json"), `"format": "drcon-snapshot"`) {
		t.Fatalf("state.json:\n%s", read(t, dir, "state.json"))
	}
	for conf, want := range map[string]string{"kv.conf": "cpu=2\n", "services.conf": "web-2 127.0.0.1:8082 passing",
		"nodes.conf": "drcon-test has"} {
		if got := read(t, dir, "out/"+conf); !strings.Contains(got, want) {
			t.Fatalf("%s lacks %q:\n%s", conf, want, got)
		}
	}
	if err := os.Rename(filepath.Join(dir, "out"), filepath.Join(dir, "live")); err != nil {
		t.Fatal(err)
	}
	c.Stop()

	expect(t, "-once -data without Consul", drcon(t, dir, "-once", "-config", "drcon.hcl", "-data", "state.json"), 0)
	for name := range templates {
		conf := strings.TrimSuffix(name, ".ctmpl") + ".conf"
		live, offline := read(t, dir, "live/"+conf), read(t, dir, "out/"+conf)
		if live == "" || live != offline {
			t.Errorf("%s: live render %q, offline %q", conf, live, offline)
		}
	}
	r := drcon(t, dir, "-once", "-dry", "-config", "drcon.hcl", "-data", "state.json")
	expect(t, "-once -dry -data", r, 0)
	if !strings.Contains(r.stdout, "> "+dir+"/out/kv.conf\nname=shop missing=none") {
		t.Errorf("-dry -data printed:\n%s", r.stdout)
	}
}
