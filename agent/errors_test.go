package agent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drcon/drcon/config"
)

// TestDiagnostics: a failed reload is logged and shown one problem at a
// time, each with its place.
func TestDiagnostics(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drcon.hcl")
	bad := "log_level = \"loud\"\ntemplate \"a\" {\n  contents = \"x\"\n  destination = \"/tmp/x\"\n  perms = \"9999\"\n}\n"
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, cfgErr := config.Load([]string{path}, config.Overrides{})
	if cfgErr == nil {
		t.Fatal("the configuration loaded")
	}
	at := hcl.Range{Filename: "drcon.hcl", Start: hcl.Pos{Line: 7, Column: 1}}
	jobErrs := errors.Join(
		&JobError{Job: "a", Kind: "template", At: at, Err: errors.New("template: a:1:\nunexpected EOF"), invalid: true},
		&JobError{Job: "b", Kind: "template", Err: errors.New("bad"), invalid: true},
	)
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"config", cfgErr, []string{
			path + `:1:13: Invalid log_level: "loud" is not one of "debug", "info", "warn" or "error".`,
			path + `:5:11: Invalid perms: "9999" is not an octal mode: use digits 0-7, such as "0644".`,
		}},
		{"jobs", jobErrs, []string{
			`drcon.hcl:7:1: template "a": template: a:1: unexpected EOF`,
			`template "b": bad`,
		}},
		{"other", errors.New("status listener: address in use"), []string{"status listener: address in use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range diagnostics(tt.err) {
				got = append(got, d.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("diagnostics:\n%q\nwant\n%q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("diagnostic %d:\n got %q\nwant %q", i, got[i], tt.want[i])
				}
			}
		})
	}
	if !errors.Is(jobErrs, ErrInvalid) {
		t.Errorf("jobs that cannot be built should match ErrInvalid")
	}
	if errors.Is(&JobError{Job: "a", Err: errors.New("command failed")}, ErrInvalid) {
		t.Errorf("a job that failed while running should not match ErrInvalid")
	}
}
