package compat

import (
	"context"
	"fmt"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
)

// The template package's golden test renders the golden corpus offline from
// state.json: the answer to every dependency the corpus asks for. Only -update
// needs them, and only drcon's own types can hold them, so they are recorded
// here in-process: each template is executed pass after pass, fetching what a
// pass reports missing with drcon's fetchers, until it completes, fails, or
// asks for nothing new.

// answers fetches each dependency once from Consul with drcon's fetchers
// (the state does not change during a run) and keeps the answers.
type answers struct {
	fetcher *consul.Fetcher
	mu      sync.Mutex
	data    map[dep.Dependency]any
}

func newAnswers(c *api.Client) *answers {
	return &answers{fetcher: consul.New(c, consul.Options{}), data: map[dep.Dependency]any{}}
}

func (a *answers) Recall(d dep.Dependency) (any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.data[d]
	return v, ok
}

func (a *answers) fetch(d dep.Dependency) error {
	a.mu.Lock()
	_, done := a.data[d]
	a.mu.Unlock()
	if done {
		return nil
	}
	v, _, err := a.fetcher.Fetch(context.Background(), d, watch.QueryOptions{})
	if err != nil {
		return fmt.Errorf("fetch %s: %w", d, err)
	}
	a.mu.Lock()
	a.data[d] = v
	a.mu.Unlock()
	return nil
}

// record fetches the answers one case's template asks for. As in a fresh
// process, the case starts knowing nothing: answers fetched for other cases
// are visible to it only once it has asked for them, so its passes ask for
// what they would ask for alone. A template that fails (to parse, to
// execute, or because Consul refuses one of its queries) or keeps waiting
// has asked for all it can. It returns the dependencies the case asked for.
func (a *answers) record(c tcase, env []string) map[dep.Dependency]bool {
	tm, err := template.Parse(c.text, template.Options{
		Name:             c.name + ".ctmpl",
		LeftDelim:        c.opts.Template.LeftDelimiter,
		RightDelim:       c.opts.Template.RightDelimiter,
		ErrOnMissingKey:  c.opts.Template.ErrorOnMissingKey,
		FunctionDenylist: c.opts.Template.FunctionDenylist,
		SandboxPath:      c.opts.Template.SandboxPath,
		Env:              env,
	})
	if err != nil {
		return nil
	}
	src := &caseStore{shared: a, asked: map[dep.Dependency]bool{}}
	for {
		res, err := tm.Execute(src)
		if err != nil || res.Complete() {
			return src.asked
		}
		progress := false
		for _, d := range res.Missing {
			if src.asked[d] {
				continue
			}
			if a.fetch(d) != nil {
				return src.asked
			}
			src.asked[d] = true
			progress = true
		}
		if !progress {
			return src.asked
		}
	}
}

// caseStore is one case's view of the shared answers: those it asked for.
type caseStore struct {
	shared *answers
	asked  map[dep.Dependency]bool
}

func (s *caseStore) Recall(d dep.Dependency) (any, bool) {
	if !s.asked[d] {
		return nil, false
	}
	return s.shared.Recall(d)
}
