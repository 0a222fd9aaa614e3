package render

import (
	"fmt"

	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/dep"
)

// The executions on one first answer alone.
//
// consul-template executes a template again after each answer (with the
// ones that came in meanwhile), so after a pass that found several
// dependencies missing it executes with the first answer back and without
// the others. drcon's source signals a pass's first answers together, one
// execution instead of one per answer (which over a hundred services would
// be quadratic), and then tries those intermediate states on purpose: a
// template that fails with any one of its first answers alone fails under
// consul-template every time, and fails in drcon too.
//
// Which answer comes first is a race in consul-template (a goroutine per
// query, the latency of each kind of query). Measured on one Consul, a key
// beats a service 9 to 12 times in 12, but two of one kind win about as
// often each, and a key list beat a key in one template and lost in
// another. A template that fails with only some of its first answers alone
// therefore fails consul-template now and then; drcon renders it, as every
// run would with all its data, rather than guess the race and fail a
// template that consul-template renders.

// arrivals are the dependencies that an incomplete execution found missing,
// in waiting (in order of first use), and that have data now: the execution
// out had data for them, or no longer uses them and src has data.
func arrivals(waiting []dep.Dependency, out *template.Result, src template.Store) []dep.Dependency {
	if len(waiting) < 2 {
		return nil
	}
	used := make(map[dep.Dependency]bool, len(out.Used))
	for _, d := range out.Used {
		used[d] = true
	}
	for _, d := range out.Missing {
		used[d] = false
	}
	var got []dep.Dependency
	for _, d := range waiting {
		has, ok := used[d]
		if !ok {
			_, has = src.Recall(d)
		}
		if has {
			got = append(got, d)
		}
	}
	return got
}

// hiding is a store without the data of some dependencies.
type hiding struct {
	template.Store
	hidden map[dep.Dependency]bool
}

func (h hiding) Recall(d dep.Dependency) (any, bool) {
	if h.hidden[d] {
		return nil, false
	}
	return h.Store.Recall(d)
}

// eachAnswerAlone executes the template once per dependency in arrived,
// with its data and without that of the rest of arrived, until one
// execution succeeds. It returns the first execution's error when they all
// fail, else nil.
func (r *run) eachAnswerAlone(arrived []dep.Dependency) error {
	var first error
	for i := range arrived {
		h := hiding{Store: r.j.src, hidden: make(map[dep.Dependency]bool, len(arrived)-1)}
		for j, d := range arrived {
			if j != i {
				h.hidden[d] = true
			}
		}
		_, err := r.tmpl.Execute(h)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// partialFailure tries each first answer alone when the execution out
// follows an incomplete one and has data for more than one of the
// dependencies that one missed. Failing in all of them fails a -once render,
// as it stops consul-template; a daemon job, which does not stop on a failed
// render, logs it and goes on with out.
func (r *run) partialFailure(out *template.Result) error {
	arrived := arrivals(r.waiting, out, r.j.src)
	if len(arrived) < 2 {
		return nil
	}
	err := r.eachAnswerAlone(arrived)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("fails with any one of its first answers alone, as consul-template renders it after the first "+
		"arrives; with %s alone: %w", arrived[0], err)
	if r.j.o.Mode&ModeOnce != 0 {
		return err
	}
	r.j.log.Warn("render would stop consul-template", "error", err)
	return nil
}
