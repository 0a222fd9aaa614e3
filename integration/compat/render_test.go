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
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/consul"
	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
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
func consulTemplate(t *testing.T, bin, addr string, c tcase, timeout time.Duration) outcome {
	dir := t.TempDir()
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
	err := cmd.Run()
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

// answers fetches each dependency once from Consul with drcon's fetchers
// (the state does not change during a run) and records the answers, for
// the goldens' state.
type answers struct {
	fetcher *consul.Fetcher
	mu      sync.Mutex
	data    map[dep.Dependency]any
}

func newAnswers(c *api.Client) *answers {
	return &answers{fetcher: consul.New(c, consul.Options{}), data: map[dep.Dependency]any{}}
}

func (a *answers) Recall(d dep.Dependency) (any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.data[d]
	return v, ok
}

func (a *answers) fetch(d dep.Dependency) error {
	a.mu.Lock()
	_, done := a.data[d]
	a.mu.Unlock()
	if done {
		return nil
	}
	v, _, err := a.fetcher.Fetch(context.Background(), d, watch.QueryOptions{})
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.data[d] = v
	a.mu.Unlock()
	return nil
}

// drconOptions are the template options of a case, as the agent builds
// them from a template block.
func drconOptions(c tcase, env []string) template.Options {
	return template.Options{
		Name:             c.name + ".ctmpl",
		LeftDelim:        c.opts.Template.LeftDelimiter,
		RightDelim:       c.opts.Template.RightDelimiter,
		ErrOnMissingKey:  c.opts.Template.ErrorOnMissingKey,
		FunctionDenylist: c.opts.Template.FunctionDenylist,
		SandboxPath:      c.opts.Template.SandboxPath,
		Env:              env,
	}
}

// drcon renders a case with drcon's template package the way the agent's
// render job does in -once mode: execute, fetch what is missing, execute
// again, until the output is complete or no new data can help. Like a fresh
// consul-template process, the case starts knowing nothing: answers fetched
// for other cases are reused only once this case has asked for them.
func drcon(c tcase, env []string, shared *answers) outcome {
	tm, err := template.Parse(c.text, drconOptions(c, env))
	if err != nil {
		return outcome{kind: failed, detail: err.Error()}
	}
	src := &caseStore{shared: shared, asked: map[dep.Dependency]bool{}}
	for range 50 {
		res, err := tm.Execute(src)
		if err != nil {
			return outcome{kind: failed, detail: err.Error()}
		}
		if res.Complete() {
			return outcome{kind: ok, output: res.Output}
		}
		progress := false
		for _, d := range res.Missing {
			if src.asked[d] {
				continue
			}
			if err := shared.fetch(d); err != nil {
				return outcome{kind: failed, detail: err.Error()}
			}
			src.asked[d] = true
			progress = true
		}
		if !progress {
			return outcome{kind: waiting, detail: fmt.Sprintf("missing %v", res.Missing)}
		}
	}
	return outcome{kind: failed, detail: "no complete render after 50 passes"}
}

// caseStore is one case's view of the shared answers: those it asked for.
type caseStore struct {
	shared *answers
	asked  map[dep.Dependency]bool
}

func (s *caseStore) Recall(d dep.Dependency) (any, bool) {
	if !s.asked[d] {
		return nil, false
	}
	return s.shared.Recall(d)
}

// drconBinary renders a case with the drcon binary, run as consul-template
// is: drcon -once -consul-addr ADDR -config FILE, whose template block has
// consul-template's fields. Exit code 5 (-once timed out waiting for data)
// is a hang.
func drconBinary(t *testing.T, bin, addr string, c tcase, timeout time.Duration) outcome {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	var hcl strings.Builder
	fmt.Fprintf(&hcl, "template {\n  source = %s\n  destination = %s\n", hclString(c.path), hclString(dest))
	o := c.opts.Template
	for _, kv := range [][2]string{{"left_delimiter", o.LeftDelimiter}, {"right_delimiter", o.RightDelimiter},
		{"sandbox_path", o.SandboxPath}} {
		if kv[1] != "" {
			fmt.Fprintf(&hcl, "  %s = %s\n", kv[0], hclString(kv[1]))
		}
	}
	if o.ErrorOnMissingKey {
		hcl.WriteString("  error_on_missing_key = true\n")
	}
	if len(o.FunctionDenylist) > 0 {
		quoted := make([]string, len(o.FunctionDenylist))
		for i, f := range o.FunctionDenylist {
			quoted[i] = hclString(f)
		}
		fmt.Fprintf(&hcl, "  function_denylist = [%s]\n", strings.Join(quoted, ", "))
	}
	hcl.WriteString("}\n")
	cfgPath := filepath.Join(dir, "drcon.hcl")
	if err := os.WriteFile(cfgPath, []byte(hcl.String()), 0o644); err != nil {
		return outcome{kind: failed, detail: "harness: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-timeout", timeout.String(), "-consul-addr", addr, "-config", cfgPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), caseEnv(c, dir)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil, errors.As(err, &exit) && exit.ExitCode() == 5:
		return outcome{kind: waiting, detail: lastLine(stderr.String())}
	case err != nil:
		return outcome{kind: failed, detail: strings.TrimSpace(stderr.String())}
	}
	out, err := os.ReadFile(dest)
	if err != nil {
		return outcome{kind: failed, detail: "no destination file: " + err.Error()}
	}
	return outcome{kind: ok, output: out}
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
	if ct.kind != dr.kind || !bytes.Equal(ct.output, dr.output) {
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
