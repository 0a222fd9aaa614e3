package metrics

import (
	"bytes"
	"flag"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var update = flag.Bool("update", false, "rewrite testdata/exposition.golden")

// sampleRegistry has one family of each kind, with label values that need
// escaping.
func sampleRegistry() (*Registry, *CounterVec, *HistogramVec) {
	r := NewRegistry()
	c := r.NewCounterVec("t_renders_total", "Complete renders.\nOf a job \\ template.", "job", "outcome")
	h := r.NewHistogramVec("t_command_seconds", "Command durations.", ExponentialBuckets(0.001, 4, 3), "job")
	r.NewCounterVec("t_unused_total", "Never recorded: left out.", "job")
	r.GaugeFunc("t_leader", "A gauge read at scrape time.", func() float64 { return 1 })
	r.CounterFunc("t_queries_total", "A counter kept elsewhere.", func() float64 { return 1e6 })
	c.WithLabelValues("web", "ok").Inc()
	c.WithLabelValues("web", "ok").Add(2)
	c.WithLabelValues(`say "hi"\n`, "line\nbreak").Inc()
	c.WithLabelValues("api", "ok").Inc()
	h.WithLabelValues("web").Observe(0.001) // on a bound: counted in it (le)
	h.WithLabelValues("web").Observe(0.01)
	h.WithLabelValues("web").Observe(30)
	return r, c, h
}

func TestExpositionGolden(t *testing.T) {
	r, _, _ := sampleRegistry()
	got := r.WriteText()
	path := filepath.Join("testdata", "exposition.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

// TestPrometheusParses: Prometheus' own parser reads the exposition back
// to the values recorded, runtime families included.
func TestPrometheusParses(t *testing.T) {
	r, _, _ := sampleRegistry()
	r.RegisterRuntime()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if ct := rec.Header().Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if _, ok := mf["t_unused_total"]; ok {
		t.Error("a family without series was written")
	}
	renders := mf["t_renders_total"]
	if renders.GetHelp() != "Complete renders.\nOf a job \\ template." {
		t.Errorf("help %q", renders.GetHelp())
	}
	found := false
	for _, m := range renders.GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		if l["job"] == `say "hi"\n` && l["outcome"] == "line\nbreak" {
			found = m.GetCounter().GetValue() == 1
		}
	}
	if !found {
		t.Error("the escaped series did not parse back to its labels and value")
	}
	hist := mf["t_command_seconds"].GetMetric()[0].GetHistogram()
	if hist.GetSampleCount() != 3 || hist.GetSampleSum() != 30.011 {
		t.Errorf("histogram count %d sum %v", hist.GetSampleCount(), hist.GetSampleSum())
	}
	if got := hist.GetBucket()[0].GetCumulativeCount(); got != 1 {
		t.Errorf("bucket le=0.001 holds %d, want 1", got)
	}
	for _, name := range []string{"go_goroutines", "go_info", "go_threads", "go_memstats_alloc_bytes",
		"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
		"process_start_time_seconds", "process_virtual_memory_bytes"} {
		f := mf[name]
		if f == nil || len(f.GetMetric()) != 1 {
			t.Errorf("%s: missing", name)
			continue
		}
		m := f.GetMetric()[0]
		// CPU time counts in 10 ms ticks: a short test may not have one.
		v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
		if !(v > 0 || name == "process_cpu_seconds_total" && v == 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, want a positive value", name, v)
		}
	}
}

func TestDeleteMatching(t *testing.T) {
	r, c, h := sampleRegistry()
	if n := c.DeleteMatching("job", "web"); n != 1 {
		t.Errorf("deleted %d counters, want 1", n)
	}
	if n := h.DeleteMatching("job", "web"); n != 1 {
		t.Errorf("deleted %d histograms, want 1", n)
	}
	if n := c.DeleteMatching("node", "web"); n != 0 {
		t.Errorf("deleted %d by a label the family lacks", n)
	}
	text := string(r.WriteText())
	if strings.Contains(text, `job="web"`) || !strings.Contains(text, `job="api"`) {
		t.Errorf("after deleting job web:\n%s", text)
	}
	if c.WithLabelValues("web", "ok").Value() != 0 {
		t.Error("a deleted series came back with its old value")
	}
}

// TestConcurrent records from many goroutines while scraping (run with
// -race); no increment is lost.
func TestConcurrent(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("t_total", "t", "job")
	h := r.NewHistogramVec("t_seconds", "t", []float64{1}, "job")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				c.WithLabelValues([]string{"a", "b"}[i%2]).Inc()
				h.WithLabelValues("a").Observe(float64(g))
				if i%100 == 0 {
					r.WriteText()
				}
			}
		})
	}
	wg.Wait()
	if got := c.WithLabelValues("a").Value() + c.WithLabelValues("b").Value(); got != 8000 {
		t.Errorf("counted %v, want 8000", got)
	}
	if got := h.WithLabelValues("a").count; got != 8000 {
		t.Errorf("observed %d, want 8000", got)
	}
}

func TestRegisteredTwice(t *testing.T) {
	r := NewRegistry()
	r.NewCounterVec("t_total", "t")
	defer func() {
		if recover() == nil {
			t.Error("a name registered twice did not panic")
		}
	}()
	r.GaugeFunc("t_total", "t", func() float64 { return 0 })
}
