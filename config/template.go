package config

import (
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// newTemplate is a template job with every default applied, those of the
// top-level template_error_fatal and err_on_failed_lookup included.
func (l *loader) newTemplate(wait Wait, delims [2]string) *Template {
	return &Template{
		CreateDestDirs:    true,
		Atomic:            true,
		Wait:              wait,
		CommandTimeout:    30 * time.Second,
		OnCommandFailure:  "log",
		LeftDelimiter:     delims[0],
		RightDelimiter:    delims[1],
		ErrorFatal:        l.errorFatal,
		ErrOnFailedLookup: l.failLookups,
	}
}

// template resolves one template block. wait and delims are the top-level
// defaults. It returns nil when the block has no usable name.
func (l *loader) template(r *rawTemplate, wait Wait, delims [2]string) *Template {
	t := l.newTemplate(wait, delims)
	t.DeclRange = r.DefRange
	switch {
	case r.Destination == nil:
		l.errorAt(r.DefRange, "Missing destination", "A template needs destination = \"path\", the file it writes.")
	case l.str(r.Destination, &t.Destination) && t.Destination == "":
		l.errorf(r.Destination, "Missing destination", "destination must not be empty.")
	}
	t.Name = r.Name
	if r.Unlabeled {
		t.Name = t.Destination // consul-template style: named by destination
	} else if t.Name == "" {
		l.errorAt(r.DefRange, "Empty template name", "Give the template a name, such as template \"nginx\" {}.")
	}
	l.templateText(r, t)
	l.boolean(r.CreateDestDirs, &t.CreateDestDirs)
	l.perms(r.Perms, &t.Perms)
	l.owner(r.User, r.UID, &t.User)
	l.owner(r.Group, r.GID, &t.Group)
	l.boolean(r.Backup, &t.Backup)
	l.boolean(r.Atomic, &t.Atomic)
	if r.WaitAttr != nil && r.Wait != nil {
		l.errorAt(r.Wait.DefRange, "Duplicate wait", "wait is set at %s and by this block; use either wait = \"min:max\" or a wait block.", l.pos(r.WaitAttr.NameRange))
	} else if own := l.wait(r.WaitAttr, r.Wait); own.Enabled() {
		t.Wait = own
	}
	l.templateCommand(r, t)
	l.str(r.LeftDelimiter, &t.LeftDelimiter)
	l.str(r.RightDelimiter, &t.RightDelimiter)
	l.boolean(r.ErrorOnMissingKey, &t.ErrorOnMissingKey)
	l.boolean(r.ErrorFatal, &t.ErrorFatal)
	l.boolean(r.ErrOnFailedLookup, &t.ErrOnFailedLookup)
	l.list(r.FunctionDenylist, r.FunctionBlacklist, &t.FunctionDenylist, nil)
	l.str(r.SandboxPath, &t.SandboxPath)
	if t.Name == "" {
		return nil
	}
	return t
}

// templateText reads the template from exactly one of source and contents.
// source is read now, relative to the configuration file's directory, so
// that a missing file is a configuration error.
func (l *loader) templateText(r *rawTemplate, t *Template) {
	switch {
	case r.Source != nil && r.Contents != nil:
		l.errorAt(r.Contents.NameRange, "Both source and contents", "source is also set at %s; a template is either a file (source) or inline text (contents).", l.pos(r.Source.NameRange))
	case r.Source != nil:
		var src string
		if !l.str(r.Source, &src) {
			return
		}
		if src == "" {
			l.errorf(r.Source, "Missing source", "source must not be empty.")
			return
		}
		t.Source = resolvePath(filepath.Dir(r.Source.Range.Filename), src)
		if r.Unlabeled {
			t.Source = l.consulTemplateSource(r.Source, t.Source, src)
		}
		b, err := readFile(t.Source)
		if err != nil {
			l.errorf(r.Source, "Cannot read template source", "%s.", err)
			return
		}
		t.Text = string(b)
	case r.Contents != nil:
		l.str(r.Contents, &t.Text)
	default:
		l.errorAt(r.DefRange, "Missing template", "Set source = \"file.tmpl\" (a template file) or contents = \"...\" (inline text).")
	}
}

// consulTemplateSource resolves the relative source of consul-template's
// unlabeled template {}, which consul-template reads from the working
// directory, and drcon from the configuration file's (rel): when only the
// working directory has the file, that one; when both have a file and they
// differ, drcon's, with a warning rather than in silence.
func (l *loader) consulTemplateSource(a *hcl.Attribute, rel, src string) string {
	if filepath.IsAbs(src) || filepath.Clean(rel) == filepath.Clean(src) {
		return rel
	}
	relInfo, relErr := os.Stat(rel)
	cwdInfo, cwdErr := os.Stat(src)
	switch {
	case relErr != nil && cwdErr == nil:
		return src
	case relErr == nil && cwdErr == nil && !os.SameFile(relInfo, cwdInfo):
		l.warnAt(a.Expr.Range(), "Ambiguous template source", "%s is read, relative to the configuration file; consul-template would read %s, relative to the working directory. Give an absolute path.", rel, src)
	}
	return rel
}

// templateCommand reads command, command_timeout, on_command_failure and
// check, with consul-template's exec { command timeout } as an alias.
func (l *loader) templateCommand(r *rawTemplate, t *Template) {
	cmd, timeout := r.Command, r.CommandTimeout
	if e := r.Exec; e != nil {
		cmd = l.alias(cmd, e.Command, "command")
		timeout = l.alias(timeout, e.Timeout, "command_timeout")
		if e.Enabled != nil {
			l.warnAt(e.Enabled.NameRange, "Ignored setting", "exec.enabled is ignored, as in consul-template: the command runs whenever one is set.")
		}
		for _, a := range []*hcl.Attribute{e.Splay, e.KillSignal, e.KillTimeout, e.ReloadSignal} {
			if a != nil {
				l.warnAt(a.NameRange, "Ignored setting", "exec.%s is ignored: drcon runs a template's command to completion and kills its process group at command_timeout.", a.Name)
			}
		}
		l.commandEnv(e.Env, &t.CommandEnv)
	}
	l.command(cmd, &t.Command)
	if l.duration(timeout, &t.CommandTimeout) && t.CommandTimeout == 0 {
		l.errorf(timeout, "Invalid "+timeout.Name, "drcon waits for every command, so the timeout must be more than 0 (consul-template's \"0\", fire and forget, is not supported); use & inside a shell command to leave it running.")
	}
	l.enum(r.OnCommandFailure, &t.OnCommandFailure, "log", "exit")
	l.enum(r.ExecOnChange, &t.ExecOnChange, "reload", "restart", "none")
	l.command(r.Check, &t.Check)
}

// commandEnv reads exec { env { } }, with its old names whitelist and
// blacklist.
func (l *loader) commandEnv(r *rawExecEnv, env *CommandEnv) {
	if r == nil {
		return
	}
	l.boolean(r.Pristine, &env.Pristine)
	if l.strList(r.Custom, &env.Custom) {
		for _, kv := range env.Custom {
			if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
				l.errorf(r.Custom, "Invalid custom environment", "%q is not NAME=value.", kv)
			}
		}
	}
	patterns := func(a *hcl.Attribute, list []string) {
		for _, g := range list {
			if _, err := filepath.Match(g, ""); err != nil {
				l.errorf(a, "Invalid pattern", "%q: %s.", g, err)
			}
		}
	}
	l.list(r.Allowlist, r.Whitelist, &env.Allowlist, patterns)
	l.list(r.Denylist, r.Blacklist, &env.Denylist, patterns)
}

// list reads a list given under its name (a), consul-template's former
// name of it (old), or both, which consul-template joins; check, if any,
// sees each list read.
func (l *loader) list(a, old *hcl.Attribute, dst *[]string, check func(*hcl.Attribute, []string)) {
	if a != nil && old != nil {
		l.warnAt(old.NameRange, "Setting given twice", "%s is the old name of %s, also set at %s; the lists are joined, as in consul-template.", old.Name, a.Name, l.pos(a.NameRange))
	}
	for _, at := range []*hcl.Attribute{a, old} {
		var v []string
		if l.strList(at, &v) {
			if check != nil {
				check(at, v)
			}
			*dst = append(*dst, v...)
		}
	}
}

// alias returns whichever of a and its exec-block spelling e is set; with
// both, e, as in consul-template.
func (l *loader) alias(a, e *hcl.Attribute, name string) *hcl.Attribute {
	if e == nil {
		return a
	}
	if a != nil {
		l.warnAt(a.NameRange, "Setting given twice", "%s is ignored: exec.%s, set at %s, wins, as in consul-template.", name, e.Name, l.pos(e.NameRange))
	}
	return e
}

// command reads a command: a string is run by /bin/sh -c, a list is argv,
// except a list of one element with spaces, which consul-template also runs
// by the shell. An empty string or list means no command.
func (l *loader) command(a *hcl.Attribute, dst *Command) {
	if a == nil {
		return
	}
	const want = "a string (run by /bin/sh -c) or a list of strings (argv)"
	v, ok := l.value(a, cty.DynamicPseudoType, want)
	if !ok {
		return
	}
	if v.Type() == cty.String {
		*dst = Command{Shell: v.AsString()}
		return
	}
	var argv []string
	if v.Type().IsTupleType() || v.Type().IsListType() {
		if lv, err := convert.Convert(v, cty.List(cty.String)); err == nil {
			for it := lv.ElementIterator(); it.Next(); {
				_, e := it.Element()
				if e.IsNull() {
					l.errorf(a, "Invalid command", "%s: an element is null.", a.Name)
					return
				}
				argv = append(argv, e.AsString())
			}
		} else {
			l.errorf(a, "Incorrect value type", "%s must be %s.", a.Name, want)
			return
		}
	} else {
		l.errorf(a, "Incorrect value type", "%s must be %s.", a.Name, want)
		return
	}
	switch {
	case len(argv) == 0:
		return
	case len(argv) == 1 && len(strings.Fields(argv[0])) > 1:
		*dst = Command{Shell: argv[0]}
		return
	case argv[0] == "":
		l.errorf(a, "Empty command", "%s: the program, the list's first element, is empty.", a.Name)
		return
	}
	*dst = Command{Argv: argv}
}

// perms reads file permissions as a string ("0644") or a number. HCL has no
// octal literals, so perms = 0644 is the number 644: its decimal digits are
// read as the octal mode that was meant.
func (l *loader) perms(a *hcl.Attribute, dst *os.FileMode) {
	if a == nil {
		return
	}
	v, ok := l.value(a, cty.DynamicPseudoType, "an octal mode such as \"0644\"")
	if !ok {
		return
	}
	var digits string
	switch v.Type() {
	case cty.String:
		digits = v.AsString()
	case cty.Number:
		n, acc := v.AsBigFloat().Int64()
		if acc != big.Exact || n < 0 || n > 7777 {
			l.errorf(a, "Invalid perms", "perms must be an octal mode from 0 to 07777, such as 0644.")
			return
		}
		digits = strconv.FormatInt(n, 10)
	default:
		l.errorf(a, "Incorrect value type", "perms must be an octal mode such as \"0644\".")
		return
	}
	m, err := parsePermDigits(digits)
	if err != nil {
		l.errorf(a, "Invalid perms", "%s.", err)
		return
	}
	*dst = m
}

// owner reads user (or group) and consul-template's legacy numeric uid (or
// gid); the id becomes the same string a user = "1000" would be.
func (l *loader) owner(name, id *hcl.Attribute, dst *string) {
	l.str(name, dst)
	if id == nil {
		return
	}
	if name != nil {
		l.warnAt(id.NameRange, "Setting given twice", "%s is ignored: %s, set at %s, wins, as in consul-template.", id.Name, name.Name, l.pos(name.NameRange))
		return
	}
	var n int
	if l.integer(id, &n, 0, 1<<31-1) {
		*dst = strconv.Itoa(n)
	}
}

// cleanPath normalizes a destination for comparing two of them.
func cleanPath(p string) string { return filepath.Clean(p) }
