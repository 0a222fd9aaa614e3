package agent

import (
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
)

// spec is what the agent knows of a job before it runs: its name, kind and
// the fingerprint of everything that shapes it.
type spec struct {
	name        string
	kind        string
	fingerprint string
	template    *config.Template
	registrator *config.Registrator
}

// specs lists the jobs of a configuration by name.
func specs(cfg *config.Config) map[string]spec {
	out := make(map[string]spec, len(cfg.Templates)+len(cfg.Registrators))
	for _, t := range cfg.Templates {
		out[t.Name] = spec{name: t.Name, kind: jobs.KindTemplate, fingerprint: t.Fingerprint(), template: t}
	}
	for _, r := range cfg.Registrators {
		out[r.Name] = spec{name: r.Name, kind: jobs.KindRegistrator, fingerprint: r.Fingerprint(), registrator: r}
	}
	return out
}

// specs lists the jobs this run of the agent runs: -once and -dry render
// templates only, and register nothing.
func (a *Agent) specs(cfg *config.Config) map[string]spec {
	all := specs(cfg)
	if a.opts.Once || a.opts.Dry {
		maps.DeleteFunc(all, func(_ string, s spec) bool { return s.kind != jobs.KindTemplate })
	}
	return all
}

// declRange is where the job's block starts.
func (s spec) declRange() hcl.Range {
	switch {
	case s.template != nil:
		return s.template.DeclRange
	case s.registrator != nil:
		return s.registrator.DeclRange
	}
	return hcl.Range{}
}

// sortedSpecs lists specs by name, for a stable start order.
func sortedSpecs(m map[string]spec) []spec {
	return slices.SortedFunc(maps.Values(m), func(a, b spec) int { return strings.Compare(a.name, b.name) })
}

// plan is what a reload does to the running jobs.
type plan struct {
	keep    []string // unchanged: keep running, no render, no command
	restart []string // changed: stop, then start the new version
	stop    []string // removed
	start   []string // new
}

// empty reports whether the plan changes nothing.
func (p plan) empty() bool { return len(p.restart)+len(p.stop)+len(p.start) == 0 }

// diff compares the running jobs with the new configuration's. With
// restartAll (the consul {} block or the watcher settings changed) every job
// that remains is restarted.
func diff(old, next map[string]spec, restartAll bool) plan {
	var p plan
	for name, o := range old {
		n, ok := next[name]
		switch {
		case !ok:
			p.stop = append(p.stop, name)
		case restartAll || n.kind != o.kind || n.fingerprint != o.fingerprint:
			p.restart = append(p.restart, name)
		default:
			p.keep = append(p.keep, name)
		}
	}
	for name := range next {
		if _, ok := old[name]; !ok {
			p.start = append(p.start, name)
		}
	}
	for _, s := range [][]string{p.keep, p.restart, p.stop, p.start} {
		slices.Sort(s)
	}
	return p
}
