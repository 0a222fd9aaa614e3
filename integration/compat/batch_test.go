package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// drconBatch renders every case with one drcon -once process whose
// configuration has a template block per case (named after it), as a user
// with many templates runs it. drcon's jobs do not see each other's data
// (a job reads only the dependencies it asked for), so a batch gives each
// case the outcome it would have alone; a case whose outcome differs from
// consul-template's is rendered alone again to show that.
//
// A case's outcome is read from its destination file, or from the line drcon
// prints for each job that did not finish: `template "NAME": ...`, where
// "gave up waiting for data" (jobs/render, at -timeout) marks a job still
// waiting (a hang). extra are more flags for drcon (-data FILE).
// Templates that do not parse make the whole run exit 3 before anything
// renders, each named on an `invalid job: template "NAME": ...` line; they
// are failed and the rest run again.
func drconBatch(bin, addr string, cases []tcase, workDir string, timeout time.Duration, extra ...string) ([]outcome, error) {
	out := make([]outcome, len(cases))
	pending := make([]int, len(cases))
	for i := range cases {
		pending[i] = i
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		dir, err := os.MkdirTemp(workDir, "drcon-")
		if err != nil {
			return nil, fmt.Errorf("drcon batch: %w", err)
		}
		code, stderr, err := runDrcon(bin, addr, cases, pending, dir, timeout, extra...)
		if err != nil {
			return nil, err
		}
		lines := jobLines(stderr)
		if code == exitConfig {
			rest := pending[:0:0]
			for _, i := range pending {
				if l, ok := lines[cases[i].name]; ok {
					out[i] = outcome{kind: failed, detail: l}
					continue
				}
				rest = append(rest, i)
			}
			if len(rest) == len(pending) || attempt == 2 {
				return nil, fmt.Errorf("drcon batch: configuration refused without naming a template:\n%s", stderr)
			}
			pending = rest
			continue
		}
		for _, i := range pending {
			out[i] = batchOutcome(cases[i], dir, lines)
		}
		pending = nil
	}
	return out, nil
}

// guardAfter is how long past its -timeout a drcon batch may run before it
// counts as stuck.
const guardAfter = 3 * time.Minute

// exitConfig is drcon's exit code for a configuration or template that does
// not parse (cmd/drcon/main.go).
const exitConfig = 3

// runDrcon writes the configuration of the cases at idx and runs drcon -once
// on it, with the extra flags, returning its exit code and what it printed.
func runDrcon(bin, addr string, cases []tcase, idx []int, dir string, timeout time.Duration, extra ...string) (int, string, error) {
	var hcl strings.Builder
	for _, i := range idx {
		writeBlock(&hcl, cases[i], destination(dir, cases[i]))
	}
	cfgPath := filepath.Join(dir, "drcon.hcl")
	if err := os.WriteFile(cfgPath, []byte(hcl.String()), 0o644); err != nil {
		return 0, "", fmt.Errorf("drcon batch: %w", err)
	}
	// drcon gives up waiting for data by itself after timeout; the context
	// only guards against a drcon that does not. -timeout bounds the wait
	// for data, not a render under way, and the corpora's costliest
	// templates (sprig_derivePassword's scrypt, executeTemplate 9990 deep)
	// take tens of seconds of CPU under -race: a CI machine running the
	// four corpora beside another package took over 43s past -timeout.
	ctx, cancel := context.WithTimeout(context.Background(), timeout+guardAfter)
	defer cancel()
	// The same retries as consul-template's run (render_test.go): a query
	// that keeps failing fails the template in both.
	args := append([]string{"-once", "-timeout", timeout.String(), "-consul-addr", addr,
		"-consul-retry-attempts", "2", "-config", cfgPath}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	// A drcon that overstays gets SIGQUIT, so that its goroutines say
	// where it is stuck.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGQUIT) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = dir
	// Every case of a batch shares COMPAT_OUT, so the corpus's writeToFile
	// cases use file names of their own.
	cmd.Env = append(os.Environ(), caseEnv(cases[idx[0]], dir)...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return 0, "", fmt.Errorf("drcon -once did not exit within %s of its -timeout %s; its goroutines:\n%s",
			guardAfter, timeout, stuckAt(stderr.String()))
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String(), nil
	case err != nil:
		return 0, "", fmt.Errorf("run drcon: %w", err)
	}
	return 0, stderr.String(), nil
}

func destination(dir string, c tcase) string { return filepath.Join(dir, "out", c.name) }

// writeBlock writes the template block of one case, with the fields of its
// sidecar that consul-template also gets.
func writeBlock(hcl *strings.Builder, c tcase, dest string) {
	fmt.Fprintf(hcl, "template %s {\n  source = %s\n  destination = %s\n", hclString(c.name), hclString(c.path), hclString(dest))
	o := c.opts.Template
	for _, kv := range [][2]string{{"left_delimiter", o.LeftDelimiter}, {"right_delimiter", o.RightDelimiter},
		{"sandbox_path", o.SandboxPath}} {
		if kv[1] != "" {
			fmt.Fprintf(hcl, "  %s = %s\n", kv[0], hclString(kv[1]))
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
		fmt.Fprintf(hcl, "  function_denylist = [%s]\n", strings.Join(quoted, ", "))
	}
	hcl.WriteString("}\n")
}

// batchOutcome is how one job of a finished batch ended.
func batchOutcome(c tcase, dir string, lines map[string]string) outcome {
	if l, ok := lines[c.name]; ok {
		if strings.Contains(l, "gave up waiting for data") {
			return outcome{kind: waiting, detail: l}
		}
		return outcome{kind: failed, detail: l}
	}
	b, err := os.ReadFile(destination(dir, c))
	if err != nil {
		return outcome{kind: failed, detail: "drcon named no error and wrote no destination: " + err.Error()}
	}
	return outcome{kind: ok, output: b}
}

// jobStart starts drcon's report of one job that did not finish: `template
// "NAME": ...`, after the place of its block (FILE:LINE:COL: ) and, on the
// first line, "drcon: ". The report runs to the start of the next.
var jobStart = regexp.MustCompile(`(?m)^(?:drcon: )?(?:\S+:\d+:\d+: )?(?:invalid job: )?template ("(?:[^"\\]|\\.)*"): `)

// jobLines splits drcon's final error, one errors.Join line (or more) per
// job, by job name.
func jobLines(stderr string) map[string]string {
	m := jobStart.FindAllStringSubmatchIndex(stderr, -1)
	out := make(map[string]string, len(m))
	for k, loc := range m {
		name, err := strconv.Unquote(stderr[loc[2]:loc[3]])
		if err != nil {
			continue
		}
		end := len(stderr)
		if k+1 < len(m) {
			end = m[k+1][0]
		}
		out[name] = strings.TrimSpace(stderr[loc[1]:end])
	}
	return out
}

// stuckAt sums up the goroutine dump that ends what a drcon given SIGQUIT
// printed: the log lines just before it, then each distinct stack of
// drcon's own frames with how many goroutines share it.
func stuckAt(out string) string {
	at := strings.Index(out, "\ngoroutine ")
	if at < 0 {
		return out
	}
	logs := strings.Split(strings.TrimSpace(out[:at]), "\n")
	logs = logs[max(0, len(logs)-10):]
	count := map[string]int{}
	var order []string
	for _, g := range strings.Split(out[at+1:], "\n\n") {
		lines := strings.Split(g, "\n")
		if !strings.HasPrefix(lines[0], "goroutine ") {
			continue
		}
		state := lines[0][strings.Index(lines[0], "[")+1:]
		state = strings.SplitN(strings.TrimSuffix(state, "]:"), ",", 2)[0]
		key := "[" + state + "]"
		frames := 0
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "github.com/drcon/") && frames < 6 {
				if i := strings.LastIndex(l, "("); i > 0 {
					l = l[:i]
				}
				key += "\n    " + l
				frames++
			}
		}
		if frames == 0 {
			continue // the runtime's own
		}
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", strings.Join(logs, "\n"))
	for _, k := range order {
		fmt.Fprintf(&b, "%d × %s\n", count[k], k)
	}
	return b.String()
}
