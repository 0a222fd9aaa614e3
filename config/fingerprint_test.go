package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// mutate calls f once for every leaf field of the struct that v points to,
// with that field changed, then restores it.
func mutate(t *testing.T, v reflect.Value, path string, f func(field string)) {
	t.Helper()
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		fv, name := v.Field(i), path+v.Type().Field(i).Name
		if !fv.CanSet() || fv.Type() == reflect.TypeOf(hcl.Range{}) || fv.Type() == reflect.TypeOf(hcl.Diagnostics{}) {
			continue
		}
		old := reflect.New(fv.Type()).Elem()
		old.Set(fv)
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(fv.String() + "x")
		case reflect.Bool:
			fv.SetBool(!fv.Bool())
		case reflect.Int, reflect.Int64:
			fv.SetInt(fv.Int() + 1)
		case reflect.Uint32:
			fv.SetUint(fv.Uint() + 1)
		case reflect.Slice:
			elem := reflect.New(fv.Type().Elem()).Elem()
			if elem.Kind() == reflect.Pointer {
				elem = reflect.New(elem.Type().Elem())
			}
			fv.Set(reflect.Append(fv, elem))
		case reflect.Map:
			m := reflect.MakeMap(fv.Type())
			m.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
			fv.Set(m)
		case reflect.Struct:
			mutate(t, fv.Addr(), name+".", f)
			continue
		default:
			t.Fatalf("%s: no mutation for %s", name, fv.Kind())
		}
		f(name)
		fv.Set(old)
	}
}

func TestFingerprintsChangeWithEveryField(t *testing.T) {
	c := mustLoad(t, []string{"testdata/good/full.hcl"}, Overrides{Getenv: testEnv})
	tm, r := c.Templates[0], c.Registrators[0]
	for _, tc := range []struct {
		name   string
		v      any
		finger func() string
	}{
		{"Template", tm, tm.Fingerprint},
		{"Registrator", r, r.Fingerprint},
		{"Consul", &c.Consul, func() string { return c.Consul.Fingerprint() }},
		{"Config", c, c.Fingerprint},
	} {
		base := tc.finger()
		mutate(t, reflect.ValueOf(tc.v), tc.name+".", func(field string) {
			if field == "Config.Files" { // where the configuration came from is not what it does
				return
			}
			if tc.finger() == base {
				t.Errorf("changing %s does not change the fingerprint", field)
			}
		})
		if tc.finger() != base {
			t.Errorf("%s: fingerprint not restored", tc.name)
		}
	}
}

// TestFingerprintsStableAcrossReload loads the same configuration laid out
// differently: the jobs and the whole keep their fingerprints.
func TestFingerprintsStableAcrossReload(t *testing.T) {
	tmpl := "template \"web\" {\n  contents    = \"x\"\n  destination = \"/tmp/web\"\n}\n"
	reg := "registrator \"docker\" {\n  tags = [\"a\"]\n}\n"
	one := writeFiles(t, map[string]string{"a.hcl": tmpl + reg})
	two := writeFiles(t, map[string]string{"a.hcl": "\n\n# moved\n" + tmpl, "b.hcl": reg})
	a := mustLoad(t, []string{one}, Overrides{})
	b := mustLoad(t, []string{two}, Overrides{})
	if a.Templates[0].Fingerprint() != b.Templates[0].Fingerprint() ||
		a.Registrators[0].Fingerprint() != b.Registrators[0].Fingerprint() ||
		a.Consul.Fingerprint() != b.Consul.Fingerprint() || a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprints differ for the same configuration")
	}
	if a.Templates[0].DeclRange == b.Templates[0].DeclRange {
		t.Error("test is vacuous: the blocks did not move")
	}
}

// TestFingerprintFollowsSource checks that editing a template's source
// file changes its fingerprint, as a reload must re-render it.
func TestFingerprintFollowsSource(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"a.hcl":    "template \"web\" {\n  source      = \"web.tmpl\"\n  destination = \"/tmp/web\"\n}\n",
		"web.tmpl": "one",
	})
	before := mustLoad(t, []string{dir}, Overrides{}).Templates[0]
	if err := os.WriteFile(filepath.Join(dir, "web.tmpl"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	after := mustLoad(t, []string{dir}, Overrides{}).Templates[0]
	if before.Text != "one" || after.Text != "two" || before.Fingerprint() == after.Fingerprint() {
		t.Errorf("text %q -> %q, fingerprints equal: %v", before.Text, after.Text, before.Fingerprint() == after.Fingerprint())
	}
}
