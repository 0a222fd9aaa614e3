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
// be quadratic), and then executes those intermediate states on purpose, so
// that a template that fails in them fails as it does under consul-template.
//
// Which answer comes first is a race in consul-template (a goroutine per
// query), but KV answers, read from memory, usually win it against catalog
// and health queries. integration/bench's BenchmarkConsulTemplateAnswerOrder
// measures it (two runs of 16 per pair, consul-template v0.41.1): a key came
// first against a service 10 to 13 times, against a node 16; a key list
// against a service 8 to 14, against a node 15 and 16; a key against the
// service list of a small catalog 7 and 9, and two keys 8 each. So the
// candidates for first answer are the KV ones, or all of them if none is KV,
// and a template that fails with each candidate alone fails: consul-template,
// which gets one of them first in most runs, stops on it. A template that
// fails with only some candidates fails consul-template now and then; drcon
// renders it, as every run would with all its data.

// arrivals are the dependencies that the last, incomplete execution found
// missing, in missing (in order of first use), and that have data now.
func arrivals(missing []dep.Dependency, src template.Store) []dep.Dependency {
	if len(missing) < 2 {
		return nil
	}
	var got []dep.Dependency
	for _, d := range missing {
		if _, has := src.Recall(d); has {
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

// candidates are the dependencies of arrived that can be the first answer
// consul-template gets: the KV ones, or all of them if none is.
func candidates(arrived []dep.Dependency) []int {
	var kv, all []int
	for i, d := range arrived {
		all = append(all, i)
		if d.Kind == dep.KindKV || d.Kind == dep.KindKVBlock || d.Kind == dep.KindKVList {
			kv = append(kv, i)
		}
	}
	if len(kv) > 0 {
		return kv
	}
	return all
}

// eachAnswerAlone executes the template once per candidate of arrived, with
// its data and without that of the rest of arrived, until one execution
// succeeds. It returns the error of the first candidate when they all fail,
// with the index of that candidate, else nil.
func (r *run) eachAnswerAlone(arrived []dep.Dependency) (int, error) {
	var (
		first    error
		firstIdx int
	)
	for _, c := range candidates(arrived) {
		h := hiding{Store: r.j.src, hidden: make(map[dep.Dependency]bool, len(arrived)-1)}
		for i, d := range arrived {
			if i != c {
				h.hidden[d] = true
			}
		}
		_, err := r.execute(h)
		if err == nil {
			return 0, nil
		}
		if first == nil {
			first, firstIdx = err, c
		}
	}
	return firstIdx, first
}

// partialFailure tries each candidate first answer alone when the last
// execution was incomplete and more than one of the dependencies it missed
// has data now. Failing with all of them fails a -once render, as it stops
// consul-template; a daemon job, which does not stop on a failed render,
// logs it and goes on to execute with all its data.
func (r *run) partialFailure() error {
	arrived := arrivals(r.missing, r.j.src)
	if len(arrived) < 2 {
		return nil
	}
	i, err := r.eachAnswerAlone(arrived)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("fails with the data of %s alone (and of each answer that can come first), as consul-template "+
		"renders it after the first answer arrives: %w", arrived[i], err)
	if r.j.o.Mode&ModeOnce != 0 {
		return err
	}
	r.j.log.Warn("render would fail in consul-template", "error", err)
	return nil
}
