package metrics

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Counter is a value that only goes up.
type Counter struct{ bits atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds v (not negative: a counter does not go down).
func (c *Counter) Add(v float64) {
	for {
		old := c.bits.Load()
		if c.bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Value is the counter's current value.
func (c *Counter) Value() float64 { return math.Float64frombits(c.bits.Load()) }

// Histogram counts observations into buckets by upper bound.
type Histogram struct {
	bounds []float64 // sorted; +Inf is implied

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf's
	sum    float64
	count  uint64
}

// Observe records v.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v) // the first bound >= v: le is inclusive
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.count++
	h.mu.Unlock()
}

// vec is a family of series of T told apart by label values.
type vec[T any] struct {
	name, help, kind string
	labels           []string
	newSeries        func() *T
	writeSeries      func(b *bytes.Buffer, name string, labels, values []string, m *T)

	mu     sync.RWMutex
	series map[string]*series[T] // by the label values joined with \xff
}

type series[T any] struct {
	values []string
	m      *T
}

// WithLabelValues is the series of these label values, created at first use.
// A count of values that is not the count of labels is a programming error.
func (v *vec[T]) WithLabelValues(values ...string) *T {
	if len(values) != len(v.labels) {
		panic(fmt.Sprintf("metrics: %s has %d labels, given %d values", v.name, len(v.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	s := v.series[key]
	v.mu.RUnlock()
	if s != nil {
		return s.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[key]; s == nil {
		s = &series[T]{values: slices.Clone(values), m: v.newSeries()}
		v.series[key] = s
	}
	return s.m
}

// DeleteMatching removes the series whose label has value; it returns how
// many it removed. A vec without that label keeps all of them.
func (v *vec[T]) DeleteMatching(label, value string) int {
	i := slices.Index(v.labels, label)
	if i < 0 {
		return 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for k, s := range v.series {
		if s.values[i] == value {
			delete(v.series, k)
			n++
		}
	}
	return n
}

func (v *vec[T]) write(b *bytes.Buffer) {
	v.mu.RLock()
	ss := make([]*series[T], 0, len(v.series))
	for _, s := range v.series {
		ss = append(ss, s)
	}
	v.mu.RUnlock()
	if len(ss) == 0 {
		return
	}
	slices.SortFunc(ss, func(a, b *series[T]) int { return slices.Compare(a.values, b.values) })
	header(b, v.name, v.help, v.kind)
	for _, s := range ss {
		v.writeSeries(b, v.name, v.labels, s.values, s.m)
	}
}

// CounterVec is a family of counters.
type CounterVec struct{ vec[Counter] }

// NewCounterVec registers a family of counters with these label names.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	v := &CounterVec{vec[Counter]{name: name, help: help, kind: "counter", labels: labels,
		newSeries: func() *Counter { return new(Counter) }, writeSeries: writeCounter, series: map[string]*series[Counter]{}}}
	r.add(name, v)
	return v
}

func writeCounter(b *bytes.Buffer, name string, labels, values []string, c *Counter) {
	sample(b, name, labels, values, "", "", c.Value())
}

// HistogramVec is a family of histograms with the same buckets.
type HistogramVec struct{ vec[Histogram] }

// NewHistogramVec registers a family of histograms; bounds are the buckets'
// upper bounds, sorted (+Inf is added).
func (r *Registry) NewHistogramVec(name, help string, bounds []float64, labels ...string) *HistogramVec {
	bounds = slices.Clone(bounds)
	slices.Sort(bounds)
	v := &HistogramVec{vec[Histogram]{name: name, help: help, kind: "histogram", labels: labels,
		newSeries: func() *Histogram {
			return &Histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
		},
		writeSeries: writeHistogram, series: map[string]*series[Histogram]{}}}
	r.add(name, v)
	return v
}

func writeHistogram(b *bytes.Buffer, name string, labels, values []string, h *Histogram) {
	h.mu.Lock()
	counts, sum, count := slices.Clone(h.counts), h.sum, h.count
	h.mu.Unlock()
	var cum uint64
	for i, n := range counts {
		cum += n
		le := "+Inf"
		if i < len(h.bounds) {
			le = formatFloat(h.bounds[i])
		}
		sample(b, name+"_bucket", labels, values, "le", le, float64(cum))
	}
	sample(b, name+"_sum", labels, values, "", "", sum)
	sample(b, name+"_count", labels, values, "", "", float64(count))
}

// ExponentialBuckets are n bounds from start, each factor times the last.
func ExponentialBuckets(start, factor float64, n int) []float64 {
	bs := make([]float64, n)
	for i := range bs {
		bs[i] = start
		start *= factor
	}
	return bs
}
