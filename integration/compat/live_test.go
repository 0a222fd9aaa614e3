package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// liveTemplates are the corpora's realistic templates that render in every
// state of liveSteps and in between: consul-template exits at a failed
// render, daemon or -once (cd_npass_services_nodes_chain fails for a moment
// while a node goes, which stops consul-template; drcon logs it and renders
// again). They print no Consul index, which background writes of the agent
// could move between two reads.
var liveTemplates = []string{
	"nginx_full", "nginx_upstreams", "nginx_per_service_tags_meta", "haproxy", "haproxy_backends_weights",
	"by_tag_routing", "npass_discovery", "npass_three_levels", "npass_conditional_deps", "kv_tree_config",
	"prometheus_targets", "hosts_from_nodes", "dedupe_by_node",
	"health_check_definitions", "mix_real_proxy_configs", "real_dashboard_whole_catalog",
	"cd_haproxy_bytag_backends", "cd_haproxy_weights_maint", "cd_hosts_dollar_data", "cd_hosts_from_nodes_tagged",
	"cd_nginx_ipv6_mesh", "cd_nginx_upstreams_weights", "cd_npass_bytag_nested", "cd_npass_connect_upstreams",
	"cd_npass_datacenters_services",
	"cd_npass_with_guard", "cd_real_consul_ui_summary", "cd_real_dnsmasq_srv", "cd_real_haproxy_acl_tags_kv",
	"cd_real_prometheus_yaml_dict", "cd_real_telegraf_inputs", "cd_scratch_collect_ports",
	"real_kv_explode_trees", "app_properties_env_files", "real_env_properties_keyordefault",
	"real_nginx_rp_kv_directives", "kvx_env_file_from_tree", "kvx_keyordefault_chains",
	"kvx_real_docker_env_from_json", "kvx_real_feature_flags_scratch", "kvx_real_haproxy_weights_kv",
	"kvx_real_hcl_agent_config", "kvx_real_ini_sections_bykey", "kvx_real_java_properties",
	"kvx_real_json_layers_merge", "kvx_real_k8s_manifest_merge", "kvx_toml_from_kv_trees",
	"kvx_recursive_walk_explode", "kvx_npass_ls_then_keyordefault_ok",
}

// liveStep is one change of the Consul state.
type liveStep struct {
	name string
	do   func(cl *api.Client) error
}

func setCheck(node, svc, status string) func(cl *api.Client) error {
	return func(cl *api.Client) error {
		_, err := cl.Catalog().Register(&api.CatalogRegistration{Node: node, SkipNodeUpdate: true,
			Service: serviceOf(svc),
			Check: &api.AgentCheck{Node: node, CheckID: "service:" + svc, Name: "check " + svc, Status: status,
				Output: "status " + status, ServiceID: svc}}, nil)
		return err
	}
}

// serviceOf is the seeded definition of the instance with this ID.
func serviceOf(id string) *api.AgentService {
	for _, s := range seedServices {
		if s.svc.ID == id {
			return s.svc
		}
	}
	panic("no seeded instance " + id)
}

func putKV(key, value string) func(cl *api.Client) error {
	return func(cl *api.Client) error {
		_, err := cl.KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil)
		return err
	}
}

var liveSteps = []liveStep{
	{"seeded state", func(*api.Client) error { return nil }},
	{"a new web instance on node-d", func(cl *api.Client) error {
		return meshRegister(cl, "node-d", &api.AgentService{ID: "web-d1", Service: "web", Tags: []string{"v2", "prod"},
			Port: 8090, Meta: map[string]string{"version": "3"}}, api.HealthPassing)
	}},
	{"web-a1 goes critical", setCheck("node-a", "web-a1", api.HealthCritical)},
	{"web-a1 recovers to warning", setCheck("node-a", "web-a1", api.HealthWarning)},
	{"web-b1 passes", setCheck("node-b", "web-b1", api.HealthPassing)},
	{"web-d1 is deregistered", func(cl *api.Client) error {
		_, err := cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "node-d", ServiceID: "web-d1"}, nil)
		return err
	}},
	{"a new service (n-pass discovery)", func(cl *api.Client) error {
		return meshRegister(cl, "node-b", &api.AgentService{ID: "search-b", Service: "search", Tags: []string{"http", "prod"},
			Port: 9200, Meta: map[string]string{"proto": "http"}}, api.HealthPassing)
	}},
	{"KV: a weight changes and an upstream appears", func(cl *api.Client) error {
		if err := putKV("upstreams/web/weight", "7")(cl); err != nil {
			return err
		}
		return putKV("upstreams/search/weight", "2")(cl)
	}},
	{"KV: an upstream folder goes", func(cl *api.Client) error {
		_, err := cl.KV().DeleteTree("upstreams/api/", nil)
		return err
	}},
	{"KV: a config value changes and a key is added", func(cl *api.Client) error {
		if err := putKV("app/config/port", "9090")(cl); err != nil {
			return err
		}
		return putKV("app/config/timeout", "30s")(cl)
	}},
	{"KV: a JSON document changes", putKV("app/json",
		`{"name":"api","ports":[8080,8443],"nested":{"a":"c","b":"d"},"html":"<&>"}`)},
	{"KV: keys with defaults appear", func(cl *api.Client) error {
		if err := putKV("app/config/port_override", "7000")(cl); err != nil {
			return err
		}
		return putKV("app/db/host", "db.internal")(cl)
	}},
	{"KV: maintenance flag on", putKV("maint/enabled", "true")},
	{"KV: a key goes", func(cl *api.Client) error {
		_, err := cl.KV().Delete("app/config/timeout", nil)
		return err
	}},
	{"node-c's node check goes critical", func(cl *api.Client) error {
		_, err := cl.Catalog().Register(&api.CatalogRegistration{Node: "node-c", Address: "10.1.0.3", SkipNodeUpdate: true,
			Check: &api.AgentCheck{Node: "node-c", CheckID: "node-health", Name: "node health", Status: api.HealthCritical,
				Output: "down"}}, nil)
		return err
	}},
	{"api-b's tags change", func(cl *api.Client) error {
		_, err := cl.Catalog().Register(&api.CatalogRegistration{Node: "node-b", SkipNodeUpdate: true,
			Service: &api.AgentService{ID: "api-b", Service: "api", Tags: []string{"http", "canary"}, Port: 9091,
				Weights: api.AgentWeights{Passing: 3, Warning: 1}}}, nil)
		return err
	}},
	{"local-web in maintenance", func(cl *api.Client) error {
		if err := cl.Agent().EnableServiceMaintenance("local-web", "deploy"); err != nil {
			return err
		}
		return inCatalog(cl, true)
	}},
	{"local-web back", func(cl *api.Client) error {
		if err := cl.Agent().DisableServiceMaintenance("local-web"); err != nil {
			return err
		}
		return inCatalog(cl, false)
	}},
	{"a new node with a web instance", func(cl *api.Client) error {
		_, err := cl.Catalog().Register(&api.CatalogRegistration{Node: "node-f", Address: "10.1.0.6",
			NodeMeta: map[string]string{"rack": "r3"},
			Service:  &api.AgentService{ID: "web-f1", Service: "web", Tags: []string{"v1", "prod"}, Port: 8080},
			Check: &api.AgentCheck{Node: "node-f", CheckID: "service:web-f1", Name: "check web-f1",
				Status: api.HealthPassing, ServiceID: "web-f1"}}, nil)
		return err
	}},
	{"the search service goes", func(cl *api.Client) error {
		_, err := cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "node-b", ServiceID: "search-b"}, nil)
		return err
	}},
	{"node-f goes", func(cl *api.Client) error {
		_, err := cl.Catalog().Deregister(&api.CatalogDeregistration{Node: "node-f"}, nil)
		return err
	}},
}

// inCatalog waits until the agent has synced local-web's maintenance check
// to the catalog (maint) or removed it: the agent's anti-entropy does it
// after the API call returns, and the oracle must see the new state.
func inCatalog(cl *api.Client, maint bool) error {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		checks, _, err := cl.Health().Checks("local-web", nil)
		if err == nil && slices.ContainsFunc(checks, func(c *api.HealthCheck) bool {
			return c.CheckID == "_service_maintenance:local-web"
		}) == maint {
			return nil
		}
	}
	return fmt.Errorf("local-web's maintenance (%v) did not reach the catalog", maint)
}

func meshRegister(cl *api.Client, node string, svc *api.AgentService, status string) error {
	_, err := cl.Catalog().Register(meshService(node, svc, status), nil)
	return err
}

// TestLiveChanges: consul-template v0.41.1 and drcon run as daemons over the
// same templates (every other one with a quiescence wait) while liveSteps change the Consul state one step at a
// time. After each step, every file of both daemons must reach the bytes a
// fresh consul-template -once renders from the new state (of the
// consul-template daemon, as long as it runs: a render that fails for a
// moment ends it). drcon's
// incremental path (one watcher per dependency, re-rendering only the jobs
// a change concerns, n-pass discovery adding and dropping dependencies)
// must end where consul-template's render-everything path ends.
func TestLiveChanges(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	seed(t, c)
	var cases []tcase
	for _, tc := range append(loadCorpus(t, "testdata"), loadCorpus(t, "testdata/adversarial")...) {
		if slices.Contains(liveTemplates, tc.name) {
			cases = append(cases, tc)
		}
	}
	if len(cases) != len(liveTemplates) {
		t.Fatalf("found %d of the %d live templates in testdata", len(cases), len(liveTemplates))
	}
	work := t.TempDir()
	ctOut, drOut := filepath.Join(work, "ct"), filepath.Join(work, "drcon")
	ctDone := startDaemon(t, ctBin, "-consul-addr", c.Addr, "-log-level", "err", "-config", ctConfig(t, work, "ct.json", cases, ctOut, true))
	var hcl strings.Builder
	fmt.Fprintf(&hcl, "consul {\n  address = %q\n}\nlog_level = \"warn\"\n", c.Addr)
	for i, tc := range cases {
		var block strings.Builder
		writeBlock(&block, tc, filepath.Join(drOut, tc.name))
		b := block.String()
		if quiesced(i) {
			b = strings.TrimSuffix(b, "}\n") + "  wait = \"" + liveWait[0] + ":" + liveWait[1] + "\"\n}\n"
		}
		hcl.WriteString(b)
	}
	drCfg := filepath.Join(work, "drcon.hcl")
	if err := os.WriteFile(drCfg, []byte(hcl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	drDone := startDaemon(t, bin, "-config", drCfg)

	cl := c.Client()
	var prev map[string][]byte
	ctExited := false
	for i, st := range liveSteps {
		if err := st.do(cl); err != nil {
			t.Fatalf("step %d (%s): %v", i, st.name, err)
		}
		want := oracle(t, ctBin, c.Addr, filepath.Join(work, fmt.Sprintf("oracle-%02d", i)), cases)
		if prev != nil {
			// A step that changes no file tests nothing.
			var changed []string
			for _, tc := range cases {
				if !bytes.Equal(prev[tc.name], want[tc.name]) {
					changed = append(changed, tc.name)
				}
			}
			if len(changed) == 0 {
				t.Fatalf("step %d (%s) changes no template's output", i, st.name)
			}
			t.Logf("step %d (%s) changes %d templates: %s", i, st.name, len(changed), strings.Join(changed, " "))
		}
		prev = want
		var behind []string
		settled := func() bool {
			behind = behind[:0]
			daemons := map[string]string{"drcon": drOut}
			if !ctExited {
				daemons["consul-template"] = ctOut
			}
			for _, tc := range cases {
				for who, dir := range daemons {
					if got, _ := os.ReadFile(filepath.Join(dir, tc.name)); !bytes.Equal(got, want[tc.name]) {
						behind = append(behind, who+" "+tc.name+"\n"+diff(want[tc.name], got))
					}
				}
			}
			return len(behind) == 0
		}
		deadline := time.Now().Add(30 * time.Second)
		for !settled() && time.Now().Before(deadline) {
			select {
			case <-drDone:
				t.Fatalf("step %d (%s): drcon exited", i, st.name)
			case <-ctDone:
				if !ctExited {
					// A render failed for a moment in between two states,
					// which ends consul-template; drcon goes on alone.
					ctExited = true
					t.Logf("step %d (%s): the consul-template daemon exited; drcon is compared alone from here", i, st.name)
				}
			default:
			}
			time.Sleep(100 * time.Millisecond)
		}
		if len(behind) > 0 {
			t.Fatalf("step %d (%s): files that did not reach consul-template -once's render within 30s:\n%s",
				i, st.name, strings.Join(behind, "\n"))
		}
	}
	t.Logf("%d templates followed %d changes; drcon's daemon (and consul-template's while it ran: %v) rendered what consul-template -once rendered",
		len(cases), len(liveSteps)-1, !ctExited)
}

// liveWait is the quiescence of every other template of the daemons, so
// that both paths of a render, at once and after a quiet period, are
// compared.
var liveWait = [2]string{"50ms", "200ms"}

func quiesced(i int) bool { return i%2 == 1 }

// ctConfig writes a consul-template JSON configuration of cases into dir/name,
// each writing outDir/NAME (with liveWait on every other one when waits),
// and returns its path.
func ctConfig(t *testing.T, dir, name string, cases []tcase, outDir string, waits bool) string {
	t.Helper()
	var tmpls []any
	for i, tc := range cases {
		tmpl := map[string]any{"source": tc.path, "destination": filepath.Join(outDir, tc.name)}
		if waits && quiesced(i) {
			tmpl["wait"] = map[string]string{"min": liveWait[0], "max": liveWait[1]}
		}
		tmpls = append(tmpls, tmpl)
	}
	b, err := json.Marshal(map[string]any{"template": tmpls})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// oracle renders cases with one consul-template -once into dir and returns
// each output by name.
func oracle(t *testing.T, ctBin, addr, dir string, cases []tcase) map[string][]byte {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctBin, "-once", "-log-level", "err", "-consul-addr", addr,
		"-config", ctConfig(t, dir, "once.json", cases, dir, false))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("consul-template -once: %v\n%s", err, out)
	}
	want := map[string][]byte{}
	for _, tc := range cases {
		b, err := os.ReadFile(filepath.Join(dir, tc.name))
		if err != nil {
			t.Fatal(err)
		}
		want[tc.name] = b
	}
	return want
}

// startDaemon runs bin with args until the test ends, and returns a
// channel closed when it exits. consul-template ignores SIGTERM, so both
// are stopped with SIGINT.
func startDaemon(t *testing.T, bin string, args ...string) <-chan struct{} {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s's output:\n%s", filepath.Base(bin), stderr.String())
		}
	})
	return done
}
