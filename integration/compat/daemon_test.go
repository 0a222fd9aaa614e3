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

// waitFor waits until both daemons' file name holds content: a step whose
// outcome depends on the order in which consul-template hears of its change
// and of the barrier puts the barrier only after.
func (e *daemonEnv) waitFor(name, content string) {
	e.t.Helper()
	testenv.WaitFor(e.t, 30*time.Second, fmt.Sprintf("both daemons' %s to read %q", name, content), func() bool {
		ct, _ := os.ReadFile(filepath.Join(e.dir, "ct", name))
		dr, _ := os.ReadFile(filepath.Join(e.dir, "drcon", name))
		return string(ct) == content && string(dr) == content
	})
}

// TestDaemonChanges: consul-template v0.41.1 and drcon run as daemons over
// the same templates while daemonCases and daemonEdgeCases change Consul
// (and files) step by step; after each step, both daemons' files must reach
// the same bytes. The
// states include those where a fresh consul-template -once would wait or
// fail (a deleted key, an empty safeLs), which only a daemon's memory of
// earlier answers decides.
func TestDaemonChanges(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	for _, dc := range slices.Concat(daemonCases, daemonEdgeCases) {
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
