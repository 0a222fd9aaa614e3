package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// outcome is how a renderer finished with a template.
type outcome struct {
	kind   string // "ok", "error" or "hang" (still waiting for data)
	output []byte // the rendered bytes when ok
	detail string // the error, for the log
}

const (
	ok      = "ok"
	failed  = "error"
	waiting = "hang"
)

func (o outcome) String() string {
	if o.kind == ok {
		return fmt.Sprintf("ok, %d bytes", len(o.output))
	}
	if o.detail != "" {
		return o.kind + ": " + o.detail
	}
	return o.kind
}

// caseOptions is a template's sidecar NAME.json: consul-template template
// block fields, and whether drcon refuses the template by design.
type caseOptions struct {
	Template struct {
		LeftDelimiter     string   `json:"left_delimiter,omitempty"`
		RightDelimiter    string   `json:"right_delimiter,omitempty"`
		ErrorOnMissingKey bool     `json:"error_on_missing_key,omitempty"`
		FunctionDenylist  []string `json:"function_denylist,omitempty"`
		SandboxPath       string   `json:"sandbox_path,omitempty"` // relative: to the corpus directory
	} `json:"template"`
	// DrconRefuses marks a template drcon must refuse at parse time (a
	// Vault or Nomad function); consul-template's outcome is not compared.
	DrconRefuses bool `json:"drcon_refuses"`
}

// tcase is one template of a corpus.
type tcase struct {
	name, dir, path string
	text            string
	opts            caseOptions
}

func loadCorpus(t *testing.T, dir string) []tcase {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := filepath.Glob(filepath.Join(abs, "*.ctmpl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no templates in %s: %v", dir, err)
	}
	var cases []tcase
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := tcase{name: strings.TrimSuffix(filepath.Base(p), ".ctmpl"), dir: abs, path: p, text: string(b)}
		if j, err := os.ReadFile(strings.TrimSuffix(p, ".ctmpl") + ".json"); err == nil {
			if err := json.Unmarshal(j, &c.opts); err != nil {
				t.Fatalf("%s.json: %v", c.name, err)
			}
		}
		if sp := c.opts.Template.SandboxPath; sp != "" && !filepath.IsAbs(sp) {
			c.opts.Template.SandboxPath = filepath.Join(abs, sp)
		}
		cases = append(cases, c)
	}
	return cases
}

// caseEnv is the environment a case's template sees besides the process's:
// where its corpus is (for file) and a directory of its own (writeToFile).
func caseEnv(c tcase, out string) []string {
	return []string{"COMPAT_DIR=" + c.dir, "COMPAT_OUT=" + out}
}

// consulTemplate renders a case with consul-template -once. A run that is
// still waiting for data after timeout is a hang.
func consulTemplate(bin, addr string, c tcase, workDir string, timeout time.Duration) outcome {
	dir, err := os.MkdirTemp(workDir, "ct-")
	if err != nil {
		return outcome{kind: failed, detail: "harness: " + err.Error()}
	}
	dest := filepath.Join(dir, "out")
	cfg := map[string]any{"template": []any{map[string]any{
		"source": c.path, "destination": dest,
		"left_delimiter": c.opts.Template.LeftDelimiter, "right_delimiter": c.opts.Template.RightDelimiter,
		"error_on_missing_key": c.opts.Template.ErrorOnMissingKey,
		"function_denylist":    c.opts.Template.FunctionDenylist,
		"sandbox_path":         c.opts.Template.SandboxPath,
	}}}
	cfgPath := filepath.Join(dir, "config.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		return outcome{kind: failed, detail: "harness: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-log-level", "err", "-consul-addr", addr,
		"-consul-retry-attempts", "2", "-config", cfgPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), caseEnv(c, dir)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return outcome{kind: waiting}
	case err != nil:
		return outcome{kind: failed, detail: logPrefix.ReplaceAllString(lastLine(stderr.String()), "")}
	}
	out, err := os.ReadFile(dest)
	if err != nil {
		return outcome{kind: failed, detail: "no destination file: " + err.Error()}
	}
	return outcome{kind: ok, output: out}
}

// logPrefix is the time and level consul-template puts before an error.
var logPrefix = regexp.MustCompile(`^\S+ \[[A-Z]+\] \(\w+\) `)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// hclString quotes s for HCL, escaping the template sequences HCL would
// otherwise interpret.
func hclString(s string) string {
	q := strconv.Quote(s)
	return strings.NewReplacer("${", "$${", "%{", "%%{").Replace(q)
}

// consulEnv is what consul-template's runner adds to the environment of its
// env functions when given only -consul-addr.
func consulEnv(addr string) []string {
	return []string{"CONSUL_HTTP_ADDR=" + addr, "CONSUL_HTTP_SSL=false", "CONSUL_HTTP_SSL_VERIFY=true"}
}

var errDiffer = errors.New("renderers differ")

// compare checks that drcon did what consul-template did.
func compare(c tcase, ct, dr outcome) error {
	if c.opts.DrconRefuses {
		if dr.kind != failed || !strings.Contains(dr.detail, "not supported by drcon") {
			return fmt.Errorf("%w: drcon must refuse %s at parse time, got %s", errDiffer, c.name, dr)
		}
		return nil
	}
	if !same(ct, dr) {
		return fmt.Errorf("%w on %s:\nconsul-template: %s\ndrcon:           %s%s", errDiffer, c.name, ct, dr, diff(ct.output, dr.output))
	}
	return nil
}

// diff shows where two outputs part.
func diff(a, b []byte) string {
	if bytes.Equal(a, b) {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return fmt.Sprintf("\nfirst difference at byte %d:\nconsul-template: %q\ndrcon:           %q",
		i, a[from:min(len(a), i+80)], b[from:min(len(b), i+80)])
}
