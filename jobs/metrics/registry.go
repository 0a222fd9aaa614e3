// Package metrics keeps drcon's counters, histograms and read-at-scrape
// values and serves them in Prometheus' text exposition format (0.0.4).
//
// drcon records about twenty families; Prometheus' client library, with
// the protobuf runtime it brings, made every drcon process, -once runs
// included, about 2 MB bigger in memory for that (README, Benchmarks). The text format is small and stable, and the tests
// check this package's output with Prometheus' own parser.
package metrics

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// family is one metric name with its HELP and TYPE and its series.
type family interface {
	// write appends the family in the text format; nothing when it has
	// no series.
	write(b *bytes.Buffer)
}

// Registry holds the families of one process. The zero value is not
// usable; create it with NewRegistry.
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// NewRegistry is an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]family{}} }

// add registers f under name. Names are constants of drcon's code, so a
// name registered twice is a programming error, as in Prometheus' client.
func (r *Registry) add(name string, f family) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.families[name]; dup {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.families[name] = f
}

// Names are the registered family names, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// WriteText is the exposition of every family with series, sorted by name.
func (r *Registry) WriteText() []byte {
	var b bytes.Buffer
	for _, n := range r.Names() {
		r.mu.Lock()
		f := r.families[n]
		r.mu.Unlock()
		f.write(&b)
	}
	return b.Bytes()
}

// ContentType is the media type of the text format.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// ServeHTTP answers a scrape.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", ContentType)
	w.Write(r.WriteText())
}
