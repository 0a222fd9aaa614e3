package docs

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/dep"
)

// TestCIExamples runs the README's "CI: render without a daemon" commands
// as written, with drcon on PATH, against a real Consul: validate passes
// (and exits 3 on a bad template, as its comment says), -once -dry prints
// the render and writes nothing, the snapshot's render is the same bytes
// with Consul out of reach, and -template to /dev/stdout prints one render
// alone.
func TestCIExamples(t *testing.T) {
	_, text := readme(t)
	_, rest, ok := strings.Cut(text, "### CI: render without a daemon")
	block := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(rest)
	if !ok || block == nil {
		t.Fatal("README.md has no CI section with a sh block")
	}
	var lines []string
	for l := range strings.Lines(block[1]) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	want := []string{"drcon validate ", "drcon -once -dry -config", "drcon snapshot ", "drcon -once -dry -data ", "drcon -once -template "}
	if len(lines) != len(want) {
		t.Fatalf("the CI block has %d commands, this test knows %d: %q", len(lines), len(want), lines)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Fatalf("CI command %d is %q, this test expects %q...", i+1, lines[i], w)
		}
	}

	consul := testenv.StartConsul(t)
	consul.PutKV("app/config", "hello")
	consul.Register(&api.AgentServiceRegistration{ID: "web1", Name: "web", Address: "127.0.0.1", Port: 8080})
	dir := t.TempDir()
	for name, content := range map[string]string{
		"drcon.hcl": "template \"web\" {\n  source      = \"web.ctmpl\"\n  destination = \"out/web.conf\"\n}\n",
		"web.ctmpl": "{{ range service \"web\" }}server {{ .Address }}:{{ .Port }};\n{{ end }}# {{ key \"app/config\" }}\n",
		"in.ctmpl":  "{{ key \"app/config\" }}\n",
		"bad.ctmpl": "{{ range }}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Dir(testenv.Drcon(t)) + string(os.PathListSeparator) + os.Getenv("PATH")
	run := func(line, consulAddr string) (stdout string, code int) {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+path, "CONSUL_HTTP_ADDR="+consulAddr)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatalf("%s: %v", line, err)
		}
		t.Logf("$ %s\n%s%s(exit %d)", line, out.String(), errOut.String(), code)
		return out.String(), code
	}

	if out, code := run(lines[0], consul.Addr); code != 0 || !strings.Contains(out, "configuration is valid") {
		t.Errorf("%s: exit %d, %q", lines[0], code, out)
	}
	render := "> out/web.conf\nserver 127.0.0.1:8080;\n# hello\n"
	if out, code := run(lines[1], consul.Addr); code != 0 || out != render {
		t.Errorf("%s: exit %d, printed %q, want %q", lines[1], code, out, render)
	}
	if _, code := run(lines[2], consul.Addr); code != 0 {
		t.Errorf("%s: exit %d", lines[2], code)
	}
	// Nothing listens on port 1 of loopback: "with no Consul at all".
	if out, code := run(lines[3], "127.0.0.1:1"); code != 0 || out != render {
		t.Errorf("%s: exit %d, printed %q, want %q", lines[3], code, out, render)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("-dry wrote files: stat out/: %v", err)
	}
	if out, code := run(lines[4], consul.Addr); code != 0 || out != "hello\n" {
		t.Errorf("%s: exit %d, printed %q, want %q", lines[4], code, out, "hello\n")
	}

	if err := os.Rename(filepath.Join(dir, "bad.ctmpl"), filepath.Join(dir, "web.ctmpl")); err != nil {
		t.Fatal(err)
	}
	if _, code := run(lines[0], consul.Addr); code != 3 {
		t.Errorf("%s with a template that does not parse: exit %d, want 3", lines[0], code)
	}
}

// TestMathExample: the README's example of the math functions' argument
// order renders what it says.
func TestMathExample(t *testing.T) {
	_, text := readme(t)
	m := regexp.MustCompile("\\(`(\\{\\{[^`]*\\}\\})` is (\\d+)\\)").FindStringSubmatch(section(t, text, "functions"))
	if m == nil {
		t.Fatal("README.md's function reference has no (`{{ ... }}` is N) example")
	}
	tmpl, err := template.Parse(m[1], template.Options{Name: "math"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tmpl.Execute(emptyStore{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(res.Output); got != m[2] {
		t.Errorf("%s renders %q; README.md says %s", m[1], got, m[2])
	}
}

type emptyStore struct{}

func (emptyStore) Recall(dep.Dependency) (any, bool) { return nil, false }
