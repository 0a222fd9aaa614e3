// Package compat is the differential suite of drcon's template language: it
// renders corpora of templates against one real Consul with consul-template
// v0.41.1 (the oracle) and with the drcon binary, and requires the same bytes,
// or that both fail, or that both keep waiting for data.
//
// Three corpora run: testdata/ here (realistic nginx and haproxy templates,
// n-pass discovery, KV trees, whole structs), template/testdata/golden (one
// small template per function, success and failure), and a matrix generated
// by matrix_test.go (functions over products of argument kinds).
//
// drcon renders each corpus in one `drcon -once` process with a template
// block per case, as users run it; consul-template renders each case in a
// `consul-template -once` process of its own. One consul-template process
// cannot stand for many cases: its first failing template stops it (later
// ones never render), and its templates share one cache of answers, so a
// template can skip the pass on missing data that it would fail on alone.
//
// COMPAT_PROBE=DIR runs the templates of DIR instead of both corpora, to try
// new cases against consul-template before they join one.
//
// With -update the suite also writes consul-template's outcomes of the golden
// corpus, and the Consul answers they were rendered from, as the template
// package's golden files, so its unit tests check the same bytes without
// services:
//
//	go test ./integration/compat -run TestCompat -update
package compat

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
)

var update = flag.Bool("update", false, "write template/testdata/golden from consul-template's outcomes")

// processEnv is set in this process, so that both renderers (its children)
// and the recorder of -update (in this process) see it alike.
var processEnv = map[string]string{"COMPAT_VAR": "from the environment", "COMPAT_EMPTY": ""}

func TestMain(m *testing.M) {
	for k, v := range processEnv {
		os.Setenv(k, v)
	}
	os.Unsetenv("COMPAT_UNSET")
	os.Exit(m.Run())
}

// hangAfter is how long a renderer gets before a template counts as waiting
// for data forever; a complete render takes well under a second.
const hangAfter = 10 * time.Second

// batchHangAfter is hangAfter for a drcon batch of n templates, which
// renders and writes them one after the other (each write is synced): a few
// milliseconds each on a slow disk or with -race, on top of hangAfter.
func batchHangAfter(n int) time.Duration { return hangAfter + time.Duration(n)*5*time.Millisecond }

const goldenDir = "../../template/testdata/golden"

// ctParallel bounds the consul-template processes running at once; most
// finish in milliseconds, the ones waiting for data sleep until hangAfter.
const ctParallel = 24

func TestCompat(t *testing.T) {
	ct := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	seed(t, c)
	env := consulEnv(c.Addr)
	work := t.TempDir()

	var corpora []*corpusRun
	if dir := os.Getenv("COMPAT_PROBE"); dir != "" {
		// Try templates against the oracle before they join a corpus.
		corpora = []*corpusRun{{name: "probe", cases: loadCorpus(t, dir)}}
	} else {
		matrix := t.TempDir()
		writeMatrix(t, matrix)
		corpora = []*corpusRun{
			{name: "compat", cases: loadCorpus(t, "testdata")},
			{name: "golden", cases: loadCorpus(t, goldenDir)},
			{name: "matrix", cases: loadCorpus(t, matrix)},
		}
	}
	// drcon's batches first, then consul-template's processes: a batch of
	// thousands of templates must not compete for the CPU with dozens of
	// processes, or it can run out of hangAfter before it has rendered them
	// (seen with -race on 2 cores).
	var wg sync.WaitGroup
	for _, r := range corpora {
		wg.Go(func() { r.dr, r.err = drconBatch(bin, c.Addr, r.cases, work, batchHangAfter(len(r.cases))) })
	}
	wg.Wait()
	sem := make(chan struct{}, ctParallel)
	for _, r := range corpora {
		r.ct = make([]outcome, len(r.cases))
		for i, tc := range r.cases {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				r.ct[i] = consulTemplate(ct, c.Addr, tc, work, hangAfter)
			})
		}
	}
	wg.Wait()

	for _, r := range corpora {
		if r.err != nil {
			t.Fatalf("%s corpus: %v", r.name, r.err)
		}
		r.recheck(ct, bin, c.Addr, work)
		same := 0
		for i, tc := range r.cases {
			t.Run(r.name+"/"+tc.name, func(t *testing.T) {
				t.Logf("consul-template: %s; drcon: %s", r.ct[i], r.dr[i])
				if err := compare(tc, r.ct[i], r.dr[i]); err != nil {
					// Tell a difference of the language from one of batching.
					if alone, aerr := drconBatch(bin, c.Addr, []tcase{tc}, work, hangAfter); aerr == nil {
						vs := "the same as"
						if alone[0].kind != r.dr[i].kind || !bytes.Equal(alone[0].output, r.dr[i].output) {
							vs = "different from"
						}
						err = fmt.Errorf("%w\ndrcon rendering this template alone: %s, %s in the batch", err, alone[0], vs)
					}
					t.Error(err)
					return
				}
				same++
			})
		}
		t.Logf("%s corpus: %d of %d templates gave identical outcomes", r.name, same, len(r.cases))
		if *update && r.name == "golden" {
			writeGoldens(t, r.cases, r.ct, c.Client(), env, c.Addr)
		}
	}
}

// corpusRun is one corpus and each renderer's outcome of each case.
type corpusRun struct {
	name   string
	cases  []tcase
	ct, dr []outcome
	err    error // drcon's batch could not be run or read
}

// recheck gives a case that one renderer left waiting and the other did not
// a longer run of the waiting one alone: a loaded machine (make test runs
// every package at once) can make a renderer slow enough to look stuck.
func (r *corpusRun) recheck(ct, bin, addr, work string) {
	for i, tc := range r.cases {
		switch {
		case tc.opts.DrconRefuses:
		case r.ct[i].kind == waiting && r.dr[i].kind != waiting:
			r.ct[i] = consulTemplate(ct, addr, tc, work, 6*hangAfter)
		case r.dr[i].kind == waiting && r.ct[i].kind != waiting:
			if alone, err := drconBatch(bin, addr, []tcase{tc}, work, 6*hangAfter); err == nil {
				r.dr[i] = alone[0]
			}
		}
	}
}

// writeGoldens stores consul-template's outcome of each case next to it
// (NAME.golden, NAME.err or NAME.hang) and, in state.json, the answers of
// the dependencies the cases ask for, as drcon's fetchers give them.
func writeGoldens(t *testing.T, cases []tcase, cts []outcome, client *api.Client, env []string, addr string) {
	t.Helper()
	src := newAnswers(client)
	for _, tc := range cases {
		src.record(tc, append(slices.Clone(env), caseEnv(tc, t.TempDir())...))
	}
	for i, tc := range cases {
		base := strings.TrimSuffix(tc.path, ".ctmpl")
		for _, ext := range []string{".golden", ".err", ".hang"} {
			os.Remove(base + ext)
		}
		var err error
		switch o := cts[i]; o.kind {
		case ok:
			err = os.WriteFile(base+".golden", o.output, 0o644)
		case failed:
			msg := strings.NewReplacer(tc.dir, "$COMPAT_DIR", addr, "$CONSUL_ADDR").Replace(o.detail)
			err = os.WriteFile(base+".err", []byte("consul-template v0.41.1 failed: "+msg+"\n"), 0o644)
		case waiting:
			err = os.WriteFile(base+".hang", []byte(fmt.Sprintf("consul-template v0.41.1 still waiting for data after %s\n", hangAfter)), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	st := state{Env: slices.Clone(env)}
	for k, v := range processEnv {
		st.Env = append(st.Env, k+"="+v)
	}
	slices.Sort(st.Env)
	for d, v := range src.data {
		if leaf, ok := v.(*api.LeafCert); ok && leaf != nil {
			// A private key, even a dev agent's, does not belong in the repository.
			c := *leaf
			c.PrivateKeyPEM = ""
			v = &c
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("encode %s: %v", d, err)
		}
		st.Answers = append(st.Answers, answer{d, raw})
	}
	slices.SortFunc(st.Answers, func(a, b answer) int { return strings.Compare(a.Dependency.String(), b.Dependency.String()) })
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(goldenDir, "state.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d goldens and %d answers to %s", len(cases), len(st.Answers), goldenDir)
}

// state is template/testdata/golden/state.json: the environment and the
// Consul answers of the run that produced the goldens.
type state struct {
	Env     []string `json:"env"`
	Answers []answer `json:"answers"`
}

type answer struct {
	Dependency dep.Dependency  `json:"dependency"`
	Value      json.RawMessage `json:"value"`
}
