package render

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/jobs/render/rendertest"
	"github.com/drcon/drcon/template/dep"
)

func TestCandidates(t *testing.T) {
	k, l := rendertest.KV("k"), dep.Dependency{Kind: dep.KindKVList, Name: "l"}
	web, nodes := rendertest.Service("web"), dep.Dependency{Kind: dep.KindCatalogNodes}
	for _, tc := range []struct {
		arrived []dep.Dependency
		want    []int
	}{
		{[]dep.Dependency{web, k, nodes, l}, []int{1, 3}},
		{[]dep.Dependency{web, rendertest.KVBlock("k")}, []int{1}},
		{[]dep.Dependency{web, nodes}, []int{0, 1}},
		{[]dep.Dependency{k, l}, []int{0, 1}},
	} {
		if got := candidates(tc.arrived); !slices.Equal(got, tc.want) {
			t.Errorf("candidates(%v) = %v, want %v", tc.arrived, got, tc.want)
		}
	}
}

func TestArrivals(t *testing.T) {
	a, b, c := rendertest.KV("a"), rendertest.KV("b"), rendertest.KV("c")
	store := rendertest.NewStore()
	store.SetKey("a", "1")
	store.SetKey("b", "2")
	for _, tc := range []struct {
		name    string
		missing []dep.Dependency
		want    []dep.Dependency
	}{
		{"one was missing", []dep.Dependency{a}, nil},
		{"both arrived, in order of first use", []dep.Dependency{b, a}, []dep.Dependency{b, a}},
		{"one still missing", []dep.Dependency{a, c, b}, []dep.Dependency{a, b}},
		{"none arrived", []dep.Dependency{c, rendertest.KV("d")}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := arrivals(tc.missing, store.Subscribe()); !slices.Equal(got, tc.want) {
				t.Errorf("arrivals = %v, want %v", got, tc.want)
			}
		})
	}
}

// eitherAloneFails fails with a or b alone and renders with both, or none.
const eitherAloneFails = `{{ if and (key "a") (key "b") }}both{{ else if or (key "a") (key "b") }}{{ parseInt "half" }}{{ end }}`

// A template that fails with whichever first answer comes alone fails -once,
// as consul-template always does, although drcon has both answers at once.
func TestOnceFailsWithAnyFirstAnswerAlone(t *testing.T) {
	store := rendertest.NewStore()
	cfg := newConfig(t, "half", eitherAloneFails)
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.SetTogether(map[dep.Dependency]any{rendertest.KVBlock("a"): dep.KVValue{Exists: true, Value: "1"}, rendertest.KVBlock("b"): dep.KVValue{Exists: true, Value: "2"}})
	}()
	err := runOnce(t, j, 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "fails with the data of kv.block(a) alone") ||
		!strings.Contains(err.Error(), `parseInt: strconv.ParseInt: parsing "half"`) {
		t.Fatalf("Run: %v", err)
	}
	if content(cfg.Destination) != "" {
		t.Errorf("destination written: %q", content(cfg.Destination))
	}
}

// One that fails with one first answer alone but not the other fails
// consul-template only now and then; drcon renders it.
func TestOnceRendersWhenOneAnswerAloneDoes(t *testing.T) {
	store := rendertest.NewStore()
	cfg := newConfig(t, "one", `{{ $a := key "a" }}{{ $b := key "b" }}{{ if and $a (not $b) }}{{ parseInt "x" }}{{ end }}{{ $a }}:{{ $b }}`)
	j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
	go func() {
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.SetTogether(map[dep.Dependency]any{rendertest.KVBlock("a"): dep.KVValue{Exists: true, Value: "1"}, rendertest.KVBlock("b"): dep.KVValue{Exists: true, Value: "2"}})
	}()
	if err := runOnce(t, j, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := content(cfg.Destination); got != "1:2" {
		t.Errorf("destination %q", got)
	}
}

// A key's answer comes first in consul-template nearly every time: a
// template that fails with the key alone fails -once, though it would not
// with the service alone; one that fails only with the service alone renders.
func TestOnceFailsWithTheKeyAlone(t *testing.T) {
	web := rendertest.Instance("web", "10.0.0.1", 80)
	for _, tc := range []struct {
		name, text string
		fails      bool
	}{
		{"key alone fails", `{{ $s := service "web" }}{{ if and (key "k") (not $s) }}{{ parseInt "x" }}{{ end }}{{ key "k" }}`, true},
		{"service alone fails", `{{ $k := key "k" }}{{ if and (service "web") (not $k) }}{{ parseInt "x" }}{{ end }}{{ key "k" }}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := rendertest.NewStore()
			cfg := newConfig(t, "mixed", tc.text)
			j := mustNew(t, cfg, store.Subscribe(), Options{Mode: ModeOnce, Commands: startRunner(t, &logs{})})
			go func() {
				eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
				store.SetTogether(map[dep.Dependency]any{rendertest.KVBlock("k"): dep.KVValue{Exists: true, Value: "v"},
					rendertest.Service("web"): []*dep.HealthService{web}})
			}()
			err := runOnce(t, j, 20*time.Second)
			switch {
			case tc.fails && (err == nil || !strings.Contains(err.Error(), "with the data of kv.block(k) alone")):
				t.Fatalf("Run: %v, want the key alone to fail", err)
			case !tc.fails && err != nil:
				t.Fatalf("Run: %v", err)
			case !tc.fails && content(cfg.Destination) != "v":
				t.Errorf("destination %q", content(cfg.Destination))
			}
		})
	}
}

// A daemon job does not stop on a failed render: it logs what would have
// stopped consul-template and renders with all its data.
func TestDaemonWarnsOfAnyFirstAnswerAlone(t *testing.T) {
	store := rendertest.NewStore()
	log := &logs{}
	cfg := newConfig(t, "half", eitherAloneFails)
	j := mustNew(t, cfg, store.Subscribe(), Options{Logger: log.logger(), Commands: startRunner(t, log)})
	startJob(t, j)
	eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
	store.SetTogether(map[dep.Dependency]any{rendertest.KVBlock("a"): dep.KVValue{Exists: true, Value: "1"}, rendertest.KVBlock("b"): dep.KVValue{Exists: true, Value: "2"}})
	eventually(t, "the render", func() bool { return content(cfg.Destination) == "both" })
	warned := log.find("render would fail in consul-template")
	if len(warned) != 1 || !strings.Contains(attr(warned[0], "error"), "with the data of kv.block(a) alone") {
		t.Errorf("warnings: %v", warned)
	}
}
