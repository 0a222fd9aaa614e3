package cli

import (
	"fmt"
	"net"
	"testing"
)

// TestExitCodes: every exit code documented in cmd/drcon/main.go, for one
// reason each (integration/agent covers the second signal and
// on_command_failure = "exit").
func TestExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	static := `template "a" {
  contents    = "static"
  destination = "$DIR/a.conf"
%s}
`
	tests := []struct {
		name   string
		config string
		args   []string
		code   int
		stderr []string
	}{
		{"0: -once rendered", fmt.Sprintf(static, ""), []string{"-once"}, 0, nil},
		{"1: status address in use", fmt.Sprintf("status { address = %q }\n", busy.Addr()) + fmt.Sprintf(static, ""),
			nil, 1, []string{"status listener", "address already in use"}},
		{"2: unknown flag", fmt.Sprintf(static, ""), []string{"-no-such-flag"}, 2, []string{"-no-such-flag"}},
		{"3: configuration", `template "a" { destination = 1 }`, []string{"-once"}, 3, []string{"drcon.hcl:1:"}},
		{"3: template, daemon", `template "a" {
  contents    = "{{ key }"
  destination = "$DIR/a.conf"
}
`, nil, 3, []string{`drcon.hcl:1:1: template "a"`, "unexpected"}},
		{"3: -template source missing", fmt.Sprintf(static, ""), []string{"-once", "-template", "missing.ctmpl:out"}, 3,
			[]string{`-template "missing.ctmpl:out"`, "no such file"}},
		{"4: command failed", fmt.Sprintf(static, "  command = \"false\"\n"), []string{"-once"}, 4,
			[]string{`template "a"`, "exit code 1"}},
		{"5: Consul unreachable", `consul { address = "127.0.0.1:1" }
template "a" {
  contents    = "{{ key \"app/a\" }}"
  destination = "$DIR/a.conf"
}
`, []string{"-once", "-timeout", "1s"}, 5, []string{`template "a"`, "kv.block(app/a)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"drcon.hcl": tt.config})
			expect(t, tt.name, drcon(t, dir, append([]string{"-config", "drcon.hcl"}, tt.args...)...), tt.code, tt.stderr...)
		})
	}
}
