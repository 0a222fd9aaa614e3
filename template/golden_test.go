package template

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drcon/drcon/template/dep"
)

// The golden corpus: testdata/golden/NAME.ctmpl, with options in NAME.json,
// and consul-template v0.41.1's outcome on a real Consul in NAME.golden (the
// bytes), NAME.err (it failed) or NAME.hang (it kept waiting for data).
// state.json holds the answers of that Consul and the environment the
// templates saw. All of it is written by
//
//	go test ./integration/compat -run TestCompat -update
//
// This test renders each template from state.json alone, as the agent
// would (pass after pass until complete), and requires the same outcome.

type goldenOptions struct {
	Template struct {
		LeftDelimiter     string   `json:"left_delimiter"`
		RightDelimiter    string   `json:"right_delimiter"`
		ErrorOnMissingKey bool     `json:"error_on_missing_key"`
		FunctionDenylist  []string `json:"function_denylist"`
		SandboxPath       string   `json:"sandbox_path"`
	} `json:"template"`
	DrconRefuses bool `json:"drcon_refuses"`
}

type goldenState struct {
	Env     []string `json:"env"`
	Answers []struct {
		Dependency dep.Dependency  `json:"dependency"`
		Value      json.RawMessage `json:"value"`
	} `json:"answers"`
}

func loadGoldenState(t testing.TB, dir string) (memStore, []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st goldenState
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("state.json: %v", err)
	}
	store := memStore{}
	for _, a := range st.Answers {
		v, err := dep.DecodeValue(a.Dependency.Kind, a.Value)
		if err != nil {
			t.Fatalf("state.json: %s: %v", a.Dependency, err)
		}
		store[a.Dependency] = v
	}
	return store, st.Env
}

func TestGoldens(t *testing.T) {
	dir, err := filepath.Abs("testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	store, env := loadGoldenState(t, dir)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ctmpl"))
	if len(paths) == 0 {
		t.Fatal("no golden templates")
	}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".ctmpl")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var o goldenOptions
			if b, err := os.ReadFile(filepath.Join(dir, name+".json")); err == nil {
				if err := json.Unmarshal(b, &o); err != nil {
					t.Fatal(err)
				}
			}
			sandbox := o.Template.SandboxPath
			if sandbox != "" && !filepath.IsAbs(sandbox) {
				sandbox = filepath.Join(dir, sandbox)
			}
			opts := Options{
				Name: name + ".ctmpl", LeftDelim: o.Template.LeftDelimiter, RightDelim: o.Template.RightDelimiter,
				ErrOnMissingKey: o.Template.ErrorOnMissingKey, FunctionDenylist: o.Template.FunctionDenylist,
				SandboxPath: sandbox,
				Env:         append(append([]string{}, env...), "COMPAT_DIR="+dir, "COMPAT_OUT="+t.TempDir()),
			}
			kind, out, detail := renderAll(string(text), opts, store)
			base := filepath.Join(dir, name)
			switch {
			case o.DrconRefuses:
				if kind != "error" || !strings.Contains(detail, "not supported by drcon") {
					t.Fatalf("want a refusal at parse time, got %s %s", kind, detail)
				}
			case exists(base + ".golden"):
				want, _ := os.ReadFile(base + ".golden")
				if kind != "ok" {
					t.Fatalf("consul-template rendered it; drcon: %s %s", kind, detail)
				}
				if !bytes.Equal(out, want) {
					t.Fatalf("output differs from consul-template's\n got: %q\nwant: %q", out, want)
				}
			case exists(base + ".err"):
				if kind != "error" {
					why, _ := os.ReadFile(base + ".err")
					t.Fatalf("%s drcon: %s %q", why, kind, out)
				}
			case exists(base + ".hang"):
				if kind != "hang" {
					t.Fatalf("consul-template kept waiting for data; drcon: %s %s %q", kind, detail, out)
				}
			default:
				t.Fatal("no .golden, .err or .hang: run the compat suite with -update")
			}
		})
	}
}

// renderAll executes passes until the output is complete, or until a pass
// needs nothing the store could add ("hang"), as the agent does.
func renderAll(text string, o Options, store memStore) (kind string, out []byte, detail string) {
	tm, err := Parse(text, o)
	if err != nil {
		return "error", nil, err.Error()
	}
	var seen int
	for {
		res, err := tm.Execute(store)
		if err != nil {
			return "error", nil, err.Error()
		}
		if res.Complete() {
			return "ok", res.Output, ""
		}
		// The store has all the answers there are: another pass helps only
		// if this one discovered dependencies.
		if len(res.Used) == seen {
			return "hang", nil, "missing " + strings.Join(depStrings(res.Missing), ", ")
		}
		seen = len(res.Used)
	}
}

func depStrings(ds []dep.Dependency) []string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return s
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
