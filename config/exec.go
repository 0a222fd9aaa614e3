package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// defaultKillTimeout is how long a stopped child has before SIGKILL, as in
// consul-template.
const defaultKillTimeout = 30 * time.Second

var errZeroKillTimeout = errors.New("the kill timeout must be more than 0: the child gets that long to stop before SIGKILL")

// ExecOverrides are consul-template's -exec* flags; each set one wins over
// the exec block's key, and the env lists add to the block's.
type ExecOverrides struct {
	Command      string // -exec, see childCommand
	KillSignal   string // -exec-kill-signal
	KillTimeout  string // -exec-kill-timeout
	ReloadSignal string // -exec-reload-signal; "SIGNULL" turns it off
	Splay        string // -exec-splay
	EnvPristine  *bool  // -exec-env-pristine
	// -exec-env-custom, -exec-env-allowlist, -exec-env-denylist (repeatable)
	EnvCustom, EnvAllowlist, EnvDenylist []string
}

// shellSyntax are the characters that make a one-word command the shell's
// to read: quotes, expansions, globs, operators.
const shellSyntax = " \t\n\"'\\$`;&|<>(){}[]*?~#=!"

// childCommand is how the child runs a command string, as consul-template
// runs it: one word is the program itself, started without a shell, so
// that the reload and kill signals reach it alone and not the processes it
// starts (a wrapper script's helpers die of a SIGHUP sent to its process
// group). Anything else, and a word the shell would expand ($APP), runs
// under /bin/sh -c.
func childCommand(s string) Command {
	if s != "" && !strings.ContainsAny(s, shellSyntax) {
		return Command{Argv: []string{s}}
	}
	return Command{Shell: s}
}

// exec reads the top-level exec block and the -exec* flags.
func (l *loader) exec(r *rawExec) Exec {
	e := Exec{KillSignal: Signal{Name: "SIGINT", Signal: syscall.SIGINT}, KillTimeout: defaultKillTimeout}
	if r != nil {
		l.command(r.Command, &e.Command)
		if e.Command.Shell != "" {
			e.Command = childCommand(e.Command.Shell)
		}
		if r.Command == nil {
			l.warnAt(r.DefRange, "No child process", "exec {} has no command, so drcon runs no child; set command = \"...\".")
		}
		for _, a := range []*hcl.Attribute{r.Enabled, r.Timeout} {
			if a != nil {
				l.warnAt(a.NameRange, "Ignored setting", "exec.%s is ignored, as in consul-template: the child runs whenever a command is set, for as long as it runs.", a.Name)
			}
		}
		l.signal(r.KillSignal, &e.KillSignal, false)
		l.signal(r.ReloadSignal, &e.ReloadSignal, true)
		if l.duration(r.KillTimeout, &e.KillTimeout) && e.KillTimeout == 0 {
			l.errorf(r.KillTimeout, "Invalid kill_timeout", "%s.", errZeroKillTimeout)
		}
		l.duration(r.Splay, &e.Splay)
		l.commandEnv(r.Env, &e.Env)
	}
	l.execOverrides(&e)
	return e
}

func (l *loader) execOverrides(e *Exec) {
	o := l.o.Exec
	if o.Command != "" {
		e.Command = childCommand(o.Command)
	}
	l.flagSignal("-exec-kill-signal", o.KillSignal, &e.KillSignal, false)
	l.flagSignal("-exec-reload-signal", o.ReloadSignal, &e.ReloadSignal, true)
	l.flagDuration("-exec-kill-timeout", o.KillTimeout, &e.KillTimeout, true)
	l.flagDuration("-exec-splay", o.Splay, &e.Splay, false)
	if o.EnvPristine != nil {
		e.Env.Pristine = *o.EnvPristine
	}
	for _, kv := range o.EnvCustom {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			l.flagError("-exec-env-custom", fmt.Errorf("%q is not NAME=value", kv))
		}
	}
	for _, g := range append(slices.Clone(o.EnvAllowlist), o.EnvDenylist...) {
		if _, err := filepath.Match(g, ""); err != nil {
			l.flagError("-exec-env-allowlist or -exec-env-denylist", fmt.Errorf("%q: %w", g, err))
		}
	}
	e.Env.Custom = append(e.Env.Custom, o.EnvCustom...)
	e.Env.Allowlist = append(e.Env.Allowlist, o.EnvAllowlist...)
	e.Env.Denylist = append(e.Env.Denylist, o.EnvDenylist...)
}

// checkExecOnChange refuses a template that asks for the reload signal when
// the child has none, and warns of one that names an action without exec.
func (l *loader) checkExecOnChange(c *Config) {
	for _, t := range c.Templates {
		switch {
		case t.ExecOnChange == "":
		case !c.Exec.Enabled():
			l.warnAt(t.DeclRange, "Ignored setting", "template %q: exec_on_change has no effect without exec { command }.", t.Name)
		case t.ExecOnChange == "reload" && c.Exec.ReloadSignal.Signal == 0:
			l.errorAt(t.DeclRange, "No reload signal", "template %q: exec_on_change = \"reload\" sends the child exec's reload_signal, and it has none; set exec { reload_signal } or use \"restart\".", t.Name)
		}
	}
}
