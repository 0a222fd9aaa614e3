// Package compat is the differential suite of drcon's template language: it
// renders corpora of templates against one real Consul with consul-template
// v0.41.1 (the oracle) and with drcon, and requires the same bytes, or that
// both fail, or that both keep waiting for data.
//
// Two corpora run: testdata/ here (realistic nginx and haproxy templates,
// n-pass discovery, KV trees, whole structs) and template/testdata/golden
// (one small template per function, success and failure). With -update the
// suite also writes consul-template's outcomes of the golden corpus, and the
// Consul answers they were rendered from, as the template package's golden
// files, so its unit tests check the same bytes without services:
//
//	go test ./integration/compat -run TestCompat -update
package compat

import (
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

// processEnv is set in this process, so that consul-template (a child) and
// drcon's template package (in this process) see it alike.
var processEnv = map[string]string{"COMPAT_VAR": "from the environment", "COMPAT_EMPTY": ""}

func TestMain(m *testing.M) {
	for k, v := range processEnv {
		os.Setenv(k, v)
	}
	os.Unsetenv("COMPAT_UNSET")
	os.Exit(m.Run())
}

// hangAfter is how long consul-template gets before a run counts as waiting
// for data forever; a complete render takes well under a second.
const hangAfter = 10 * time.Second

const goldenDir = "../../template/testdata/golden"

func TestCompat(t *testing.T) {
	ct := testenv.ConsulTemplate(t)
	// Until the agent renders with -once, drcon's side is its template
	// package driven in-process with its Consul fetchers, as the render job
	// drives it; DRCON_COMPAT_DRCON=binary runs the drcon binary instead.
	binary := ""
	if os.Getenv("DRCON_COMPAT_DRCON") == "binary" {
		if *update {
			t.Fatal("-update records the answers of the in-process side: unset DRCON_COMPAT_DRCON")
		}
		binary = testenv.Drcon(t)
	}
	// A fixed gRPC TLS port (8503) would collide with other dev agents.
	c := testenv.StartConsul(t)
	seed(t, c)
	env := consulEnv(c.Addr)

	corpora := []struct {
		name  string
		cases []tcase
		src   *answers
	}{
		{"compat", loadCorpus(t, "testdata"), newAnswers(c.Client())},
		{"golden", loadCorpus(t, goldenDir), newAnswers(c.Client())},
	}
	type result struct{ ct, dr outcome }
	for _, corpus := range corpora {
		results := make([]result, len(corpus.cases))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for i, tc := range corpus.cases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				r := result{ct: consulTemplate(t, ct, c.Addr, tc, hangAfter)}
				if binary != "" {
					r.dr = drconBinary(t, binary, c.Addr, tc, hangAfter)
				} else {
					r.dr = drcon(tc, append(slices.Clone(env), caseEnv(tc, t.TempDir())...), corpus.src)
				}
				results[i] = r
			}()
		}
		wg.Wait()
		// A loaded machine can make consul-template slow enough to look
		// stuck: give it longer before calling that a difference.
		for i, tc := range corpus.cases {
			if r := results[i]; r.ct.kind == waiting && r.dr.kind != waiting && !tc.opts.DrconRefuses {
				results[i].ct = consulTemplate(t, ct, c.Addr, tc, 6*hangAfter)
			}
			if r := results[i]; binary != "" && r.dr.kind == waiting && r.ct.kind != waiting {
				results[i].dr = drconBinary(t, binary, c.Addr, tc, 6*hangAfter)
			}
		}

		same := 0
		for i, tc := range corpus.cases {
			r := results[i]
			t.Run(corpus.name+"/"+tc.name, func(t *testing.T) {
				t.Logf("consul-template: %s; drcon: %s", r.ct, r.dr)
				if err := compare(tc, r.ct, r.dr); err != nil {
					t.Error(err)
					return
				}
				same++
			})
		}
		t.Logf("%s corpus: %d of %d templates gave identical outcomes", corpus.name, same, len(corpus.cases))
		if *update && corpus.name == "golden" {
			cts := make([]outcome, len(results))
			for i, r := range results {
				cts[i] = r.ct
			}
			writeGoldens(t, corpus.cases, cts, corpus.src, env, c.Addr)
		}
	}
}

// writeGoldens stores consul-template's outcome of each case next to it
// (NAME.golden, NAME.err or NAME.hang) and the answers drcon rendered from
// in state.json.
func writeGoldens(t *testing.T, cases []tcase, cts []outcome, src *answers, env []string, addr string) {
	t.Helper()
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
