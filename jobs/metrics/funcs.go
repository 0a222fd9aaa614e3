package metrics

import "bytes"

// funcFamily is one unlabelled series read when scraped.
type funcFamily struct {
	name, help, kind string
	read             func() (float64, bool) // false: no value now, the family is left out
	labels, values   []string               // constant labels (go_info's version)
}

func (f *funcFamily) write(b *bytes.Buffer) {
	v, ok := f.read()
	if !ok {
		return
	}
	header(b, f.name, f.help, f.kind)
	sample(b, f.name, f.labels, f.values, "", "", v)
}

// GaugeFunc registers a gauge whose value f gives at each scrape.
func (r *Registry) GaugeFunc(name, help string, f func() float64) {
	r.readAtScrape(name, help, "gauge", always(f))
}

// CounterFunc registers a counter whose value f gives at each scrape (a
// count kept elsewhere that only goes up).
func (r *Registry) CounterFunc(name, help string, f func() float64) {
	r.readAtScrape(name, help, "counter", always(f))
}

// readAtScrape registers an unlabelled family of kind that read gives, or
// leaves out when read has no value.
func (r *Registry) readAtScrape(name, help, kind string, read func() (float64, bool)) {
	r.add(name, &funcFamily{name: name, help: help, kind: kind, read: read})
}

func always(f func() float64) func() (float64, bool) {
	return func() (float64, bool) { return f(), true }
}
