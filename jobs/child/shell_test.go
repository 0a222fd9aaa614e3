package child

import (
	"slices"
	"testing"
)

func TestShellArgs(t *testing.T) {
	tests := []struct {
		cmd  string
		exec bool // prefixed with exec
	}{
		{"nginx -g 'daemon off;'", true},
		{`haproxy -W -db -f "$CFG"`, true},
		{"app --flag=x > /var/log/app.log 2>&1", true},
		{`app "a \" ; b"`, true},
		{`app a\;b`, true},
		{"  app  ", true},
		{"prepare && nginx", false},
		{"nginx; echo done", false},
		{"app | tee log", false},
		{"app &", false},
		{"app >| out <&3", true},
		{"app >&2 && other", false},
		{"(cd /srv && app)", false},
		{"app $(cat args)", false},
		{"app \"$(cat args)\"", false},
		{"app `cat args`", false},
		{"FOO=bar app", false},
		{"if true; then app; fi", false},
		{"exec app", false},
		{"exit 7", false},
		{"cd /srv", false},
		{"app\nother", false},
		{"app 'unclosed", false},
	}
	for _, tc := range tests {
		got := shellArgs(tc.cmd)
		want := []string{"/bin/sh", "-c", tc.cmd}
		if tc.exec {
			want[2] = "exec " + tc.cmd
		}
		if !slices.Equal(got, want) {
			t.Errorf("shellArgs(%q) = %q, want %q", tc.cmd, got, want)
		}
	}
}
