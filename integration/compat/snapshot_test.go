package compat

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
)

// TestSnapshotParity holds `drcon snapshot` and `drcon -once -data` to their
// promise over the four corpora: a snapshot rendered offline gives what the
// live render gave. On one seeded Consul each corpus is rendered live in one
// drcon batch (and the cases that waited for data again, in a batch of their
// own: recheck); `drcon snapshot` then saves the data of the cases that
// rendered; Consul is stopped, and the whole corpus is rendered again from
// the snapshot, at the same (now closed) address, so that `env
// "CONSUL_HTTP_ADDR"` reads alike. Each case must then give the same bytes
// where it rendered live, fail where it failed live, and, where it waited
// for data live, fail at once naming each dependency it waited for (the
// snapshot lacks it, or its answer is not enough). A case that reads an
// answer no snapshot can hold (a KV value that is not UTF-8) stays out of
// the snapshot and must fail offline naming it.
func TestSnapshotParity(t *testing.T) {
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	seed(t, c)
	work := t.TempDir()
	start := time.Now()

	runs := make([]*parityRun, 0, 4)
	for _, r := range loadCorpora(t) {
		runs = append(runs, &parityRun{name: r.name, cases: r.cases})
	}
	var wg sync.WaitGroup
	for _, r := range runs {
		wg.Go(func() { r.live, r.err = drconBatch(bin, c.Addr, r.cases, work, batchHangAfter(len(r.cases))) })
	}
	wg.Wait()
	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("%s corpus, live: %v", r.name, r.err)
		}
		wg.Go(func() { r.recheck(t, bin, c.Addr, work) })
	}
	wg.Wait()
	live := time.Since(start)
	src := newAnswers(c.Client())
	for _, r := range runs {
		r.findUnsaved(t, src, c.Addr)
	}
	record := time.Since(start) - live
	for _, r := range runs {
		wg.Go(func() { r.err = r.snapshot(bin, c.Addr, work) })
	}
	wg.Wait()
	snap := time.Since(start) - live - record
	c.Stop()
	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("%s corpus, snapshot: %v", r.name, r.err)
		}
		wg.Go(func() {
			r.offline, r.err = drconBatch(bin, c.Addr, r.cases, work, boundOnly, "-data", r.state)
		})
	}
	wg.Wait()
	t.Logf("live %s, recording dependencies %s, snapshot %s, offline %s", live.Round(time.Millisecond),
		record.Round(time.Millisecond), snap.Round(time.Millisecond), (time.Since(start) - live - record - snap).Round(time.Millisecond))

	for _, r := range runs {
		if r.err != nil {
			t.Fatalf("%s corpus, offline: %v", r.name, r.err)
		}
	}
	for _, r := range runs {
		same := 0
		for i, tc := range r.cases {
			t.Run(r.name+"/"+tc.name, func(t *testing.T) {
				t.Logf("live: %s; offline: %s", r.live[i], r.offline[i])
				if why, ok := capacityShows[tc.name]; ok {
					t.Skipf("the snapshot cannot give this the live outcome: %s", why)
				}
				if why, ok := r.unsaved[i]; ok {
					t.Logf("not in the snapshot: %s", why)
				}
				if err := r.parity(i); err != nil {
					t.Errorf("%s: %v", tc.name, err)
					return
				}
				same++
			})
		}
		t.Logf("%s corpus: %d of %d templates gave the same outcome offline (%d in the snapshot)",
			r.name, same, len(r.cases), r.saved)
	}
}

// boundOnly is the -timeout of the runs in which nothing waits for data
// (the snapshot of cases that rendered live, and the offline render), where
// it only bounds a bug. It does not grow with the corpus: the time a batch
// takes depends on the machine's load more than on its size. Beside the
// other packages' tests in CI, on 2 cores under -race, the four offline
// batches took 2m17s where 36 s are enough on an idle machine, and the
// bounds of 71 and 80 s that grew with the corpus ran out.
const boundOnly = 5 * time.Minute

// recheck renders live again, in a batch of their own with a longer wait,
// the cases that waited for data in the live batch, on the same Consul and
// before the snapshot: a loaded machine can make a batch of thousands slow
// enough to look stuck (as TestCompat's recheck says; a CI run beside other
// load left 40 such cases), and such a case must then be in the snapshot.
// Those that wait for data that never comes wait out the longer wait too.
func (r *parityRun) recheck(t *testing.T, bin, addr, work string) {
	var idx []int
	var cases []tcase
	for i, tc := range r.cases {
		if r.live[i].kind == waiting {
			idx, cases = append(idx, i), append(cases, tc)
		}
	}
	if len(cases) == 0 {
		return
	}
	again, err := drconBatch(bin, addr, cases, work, 2*batchHangAfter(len(cases)))
	if err != nil {
		t.Errorf("%s corpus, live again: %v", r.name, err)
		return
	}
	for k, i := range idx {
		if again[k].kind != waiting {
			t.Logf("%s: waited for data in the live batch; again: %s", r.cases[i].name, again[k])
		}
		r.live[i] = again[k]
	}
}

// capacityShows are the cases whose outcome shows the capacity of a slice
// in an answer, which JSON does not keep: a snapshot's answers have the
// capacity encoding/json gives them, not the one drcon's fetchers give as
// consul-template's do (a filtered health list keeps the capacity of the
// unfiltered one).
var capacityShows = map[string]string{
	"adv2_slice_cap_nodes_plus1_fails": "slice past len fails live (cap == len), not offline",
	"adv2_slice_cap_tags_fails":        "slice past len fails live (cap == len), not offline",
	"sx_spew_consul_values":            "spew prints each slice's cap",
	"sx_spew_slice_caps_consul":        "spew prints each slice's cap",
}

// parityRun is one corpus rendered live and from its snapshot.
type parityRun struct {
	name          string
	cases         []tcase
	live, offline []outcome
	state         string // the snapshot file
	saved         int    // cases the snapshot was taken of
	// unsaved are the cases that rendered live but read an answer that
	// no snapshot holds (why, by case): snapshot.Write refuses an answer
	// that does not survive JSON, a KV value that is not UTF-8.
	unsaved map[int]string
	err     error
}

// findUnsaved records, in this process, the dependencies of the cases that
// may read bytes/, and fills r.unsaved with those reading an answer that
// snapshot.Write refuses. A snapshot of them would fail whole.
func (r *parityRun) findUnsaved(t *testing.T, src *answers, addr string) {
	t.Helper()
	r.unsaved = map[int]string{}
	for i, tc := range r.cases {
		// Only the seed's bytes/binary is not UTF-8: the cases that name
		// bytes/ or list the whole store may read it. Recording runs
		// each template it records, so the others stay out; one missed
		// here fails drcon snapshot, which names the dependency.
		if !readsBytes.MatchString(tc.text) {
			continue
		}
		for d := range src.record(tc, append(consulEnv(addr), caseEnv(tc, t.TempDir())...)) {
			v, _ := src.Recall(d)
			if _, err := dep.EncodeValue(d.Kind, v); err != nil {
				r.unsaved[i] = fmt.Sprintf("%s: %v", d, err)
			}
		}
	}
}

// snapshot runs `drcon snapshot` over the cases that rendered live: a
// snapshot is taken of templates that render (any failure fails it whole).
func (r *parityRun) snapshot(bin, addr, workDir string) error {
	dir, err := os.MkdirTemp(workDir, "snapshot-")
	if err != nil {
		return err
	}
	var hcl strings.Builder
	first := -1
	for i, tc := range r.cases {
		if _, no := r.unsaved[i]; no || r.live[i].kind != ok {
			continue
		}
		if first < 0 {
			first = i
		}
		writeBlock(&hcl, tc, destination(dir, tc))
		r.saved++
	}
	cfgPath := filepath.Join(dir, "drcon.hcl")
	if err := os.WriteFile(cfgPath, []byte(hcl.String()), 0o644); err != nil {
		return err
	}
	r.state = filepath.Join(dir, "state.json")
	// Every case rendered live, so nothing waits.
	timeout := boundOnly
	ctx, cancel := context.WithTimeout(context.Background(), timeout+guardAfter)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "snapshot", "-timeout", timeout.String(), "-consul-addr", addr,
		"-consul-retry-attempts", "2", "-config", cfgPath, "-o", r.state)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), caseEnv(r.cases[first], dir)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("drcon snapshot of %d templates: %w\n%s", r.saved, err, out.String())
	}
	return nil
}

// readsBytes finds a template that may read the KV values under bytes/.
var readsBytes = regexp.MustCompile(`bytes|\b(ls|safeLs|tree|safeTree) "/?"`)

// parity checks case i's offline outcome against its live one.
func (r *parityRun) parity(i int) error {
	live, offline := r.live[i], r.offline[i]
	lacks := offline.kind == failed && strings.Contains(offline.detail, "the snapshot has no answer")
	_, unsaved := r.unsaved[i]
	switch {
	case unsaved && live.kind == ok && !lacks:
		return fmt.Errorf("rendered live from data no snapshot holds; offline it must fail naming what the snapshot lacks, got: %s", offline)
	case !unsaved && live.kind == ok && !same(live, offline):
		return fmt.Errorf("rendered live, offline: %s%s", offline, diff(live.output, offline.output))
	case live.kind == failed && offline.kind != failed:
		return fmt.Errorf("failed live (%s), offline: %s", live.detail, offline)
	case live.kind == waiting && (offline.kind != failed || !strings.Contains(offline.detail, "snapshot") ||
		!namesOne(offline.detail, live.detail)):
		return fmt.Errorf("waited for data live (%s); offline it must fail at once naming what it waited for, got: %s",
			live.detail, offline)
	}
	return nil
}

// namesOne reports whether offline names a dependency a job waited for
// live: `gave up waiting for data (...): missing D1, D2`. Not all of them:
// offline fails at the first that cannot come, and a loaded machine can
// leave a batch's template of many dependencies waiting for all of them
// live, and out of the snapshot.
func namesOne(offline, live string) bool {
	_, missing, _ := strings.Cut(live, ": missing ")
	for d := range strings.SplitSeq(missing, ", ") {
		if d != "" && strings.Contains(offline, d+": ") {
			return true
		}
	}
	return false
}
