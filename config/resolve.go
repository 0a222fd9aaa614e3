package config

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults that are not the zero value.
const (
	defaultMaxStale       = 2 * time.Second
	defaultBlockQueryWait = 60 * time.Second
	// Consul caps a blocking query's wait at 10 minutes.
	maxBlockQueryWait = 10 * time.Minute
)

// logLevelEnv are consul-template's variables for the log level, read when
// the configuration does not set log_level.
var logLevelEnv = []string{"CT_LOG", "CONSUL_TEMPLATE_LOG", "CONSUL_TEMPLATE_LOG_LEVEL"}

// resolve turns the merged raw configuration into a Config: defaults, then
// the environment, then the file, then the flags.
func (l *loader) resolve(f *rawFile) *Config {
	c := &Config{
		LogLevel:       "info",
		LogFormat:      "text",
		KillSignal:     Signal{Name: "SIGINT", Signal: syscall.SIGINT},
		ReloadSignal:   Signal{Name: "SIGHUP", Signal: syscall.SIGHUP},
		MaxStale:       defaultMaxStale,
		BlockQueryWait: defaultBlockQueryWait,
	}
	if f.LogLevel != nil {
		var s string
		if l.str(f.LogLevel, &s) {
			lvl, err := parseLogLevel(s)
			if err != nil {
				l.errorf(f.LogLevel, "Invalid log_level", "%s.", err)
			}
			c.LogLevel = lvl
		}
	} else if s := l.firstEnv(logLevelEnv...); s != "" {
		if lvl, err := parseLogLevel(s); err != nil {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Ignored environment variable",
				Detail: fmt.Sprintf("log level %q from the environment (%s): %s; it is ignored.", s, strings.Join(logLevelEnv, ", "), err)})
		} else {
			c.LogLevel = lvl
		}
	}
	l.enum(f.LogFormat, &c.LogFormat, "text", "json")
	c.Syslog = l.syslog(f.Syslog)
	c.LogFile = l.logFile(f.LogFile)
	l.str(f.PidFile, &c.PidFile)
	l.signal(f.KillSignal, &c.KillSignal, true)
	l.signal(f.ReloadSignal, &c.ReloadSignal, true)
	l.duration(f.MaxStale, &c.MaxStale)
	if l.duration(f.BlockQueryWait, &c.BlockQueryWait) {
		switch {
		case c.BlockQueryWait == 0:
			l.errorf(f.BlockQueryWait, "Invalid block_query_wait", "block_query_wait must be more than 0.")
		case c.BlockQueryWait > maxBlockQueryWait:
			// consul-template takes it, and Consul caps the wait itself.
			l.warnAt(f.BlockQueryWait.Expr.Range(), "Capped block_query_wait", "%s is more than Consul's longest wait; drcon waits 10m.", c.BlockQueryWait)
			c.BlockQueryWait = maxBlockQueryWait
		}
	}
	c.Wait = l.wait(f.WaitAttr, f.Wait)
	if f.Status != nil && l.str(f.Status.Address, &c.Status.Address) {
		// The port as the listener will read it, so that a bad one is a
		// configuration error with its place, not a failure to start.
		_, port, err := net.SplitHostPort(c.Status.Address)
		if err == nil {
			_, err = net.LookupPort("tcp", port)
		}
		if err != nil {
			l.errorf(f.Status.Address, "Invalid status address", "%q is not host:port (such as \"127.0.0.1:8080\" or \":8080\").", c.Status.Address)
		}
	}
	c.Consul = l.consul(f.Consul)
	c.Dedup = l.dedup(f.Dedup)
	l.applyGlobalOverrides(c)

	var delims [2]string
	if f.Delimiters != nil {
		l.str(f.Delimiters.Left, &delims[0])
		l.str(f.Delimiters.Right, &delims[1])
	}
	for i, flag := range []string{l.o.DefaultLeftDelimiter, l.o.DefaultRightDelimiter} {
		if flag != "" {
			delims[i] = flag
		}
	}
	l.boolean(f.TemplateErrorFatal, &l.errorFatal)
	l.boolean(f.ErrOnFailedLookup, &l.failLookups)
	for _, t := range f.Templates {
		if tmpl := l.template(t, c.Wait, delims); tmpl != nil {
			c.Templates = append(c.Templates, tmpl)
		}
	}
	c.Templates = append(c.Templates, l.flagTemplates(c.Wait, delims)...)
	// As in consul-template, the flags decide for every template.
	for _, t := range c.Templates {
		if fatal := l.o.TemplateErrorFatal; fatal != nil {
			t.ErrorFatal = *fatal
		}
		if fail := l.o.ErrOnFailedLookup; fail != nil {
			t.ErrOnFailedLookup = *fail
		}
	}
	for _, r := range f.Registrators {
		c.Registrators = append(c.Registrators, l.registrator(r))
	}
	c.Exec = l.exec(f.Exec)
	l.checkExecOnChange(c)
	l.checkJobs(c)
	return c
}

// wait resolves a wait given as "min[:max]" or as a block; the zero Wait
// when neither is given. max defaults to 4 x min, as in consul-template.
func (l *loader) wait(attr *hcl.Attribute, b *rawWait) Wait {
	var w Wait
	switch {
	case attr != nil:
		var s string
		if l.str(attr, &s) {
			v, err := parseWaitString(s)
			if err != nil {
				l.errorf(attr, "Invalid wait", "%s.", err)
			}
			w = v
		}
	case b != nil:
		// As in consul-template, the block waits only with a min, and max
		// defaults to 4 x min.
		l.duration(b.Min, &w.Min)
		if !l.duration(b.Max, &w.Max) {
			w.Max = 4 * w.Min
		}
		on := true
		switch {
		case l.boolean(b.Bool, &on) && !on:
			return Wait{}
		case w.Min == 0 && b.Max != nil:
			l.warnAt(b.Max.NameRange, "No wait", "max is set but min is not: the block waits for nothing, as in consul-template; set min.")
			return Wait{}
		case w.Max < w.Min:
			l.warnAt(b.Max.NameRange, "Wait shortened", "max (%s) is less than min (%s): renders wait at most %s.", w.Max, w.Min, w.Max)
			w.Min = w.Max
		}
	}
	return w
}

// dedup resolves the dedup block: as in consul-template, any setting in it
// turns it on unless it says enabled = false; an empty block does not.
func (l *loader) dedup(b *rawDedup) Dedup {
	d := Dedup{Prefix: "drcon/dedup/", TTL: 15 * time.Second}
	if b == nil {
		return d
	}
	// As in consul-template, a setting turns dedup on, but for an empty
	// prefix or a zero duration.
	var prefix string
	if l.str(b.Prefix, &prefix) && prefix != "" {
		d.Prefix, d.Enabled = prefix, true
	}
	for _, a := range []*hcl.Attribute{b.MaxStale, b.BlockQueryWait} {
		var v time.Duration
		if l.duration(a, &v) && v != 0 {
			d.Enabled = true
		}
	}
	if l.duration(b.TTL, &d.TTL) {
		d.Enabled = true
		if d.TTL < 10*time.Second || d.TTL > 24*time.Hour {
			l.errorf(b.TTL, "Invalid dedup ttl", "ttl is a Consul session TTL, which must be from 10s to 24h.")
		}
	}
	l.boolean(b.Enabled, &d.Enabled)
	return d
}

// filtersOverlap reports whether a container's labels can match both
// filters: unless one label is required with a different value by each
// ("" matches any value).
func filtersOverlap(a, b map[string]string) bool {
	for k, va := range a {
		if vb, ok := b[k]; ok && va != "" && vb != "" && va != vb {
			return false
		}
	}
	return true
}

// checkJobs enforces that a name and a destination belong to one job only:
// status is keyed by name, and two jobs writing one file would fight.
func (l *loader) checkJobs(c *Config) {
	names := map[string]hcl.Range{}
	dests := map[string]hcl.Range{}
	seen := func(m map[string]hcl.Range, key string, at hcl.Range, summary, what string) bool {
		if first, ok := m[key]; ok {
			l.errorAt(at, summary, "%s %q is also used at %s; each job needs its own.", what, key, l.pos(first))
			return true
		}
		m[key] = at
		return false
	}
	for _, t := range c.Templates {
		// An unlabeled template is named by its destination: one error
		// for a reused destination is enough.
		if !seen(names, t.Name, t.DeclRange, "Duplicate job name", "The name") && t.Destination != "" {
			seen(dests, cleanPath(t.Destination), t.DeclRange, "Duplicate destination", "The destination")
		}
	}
	for i, r := range c.Registrators {
		seen(names, r.Name, r.DeclRange, "Duplicate job name", "The name")
		for _, o := range c.Registrators[:i] {
			if o.DockerHost == r.DockerHost && filtersOverlap(o.Filter, r.Filter) {
				l.warnAt(r.DeclRange, "Registrator blocks overlap",
					"registrator %q and %q (at %s) watch the same engine and a container can match both filters: both would register it, under the same service IDs, and undo each other's registrations. Give them filters that exclude each other.",
					r.Name, o.Name, l.pos(o.DeclRange))
			}
		}
	}
	if len(c.Templates)+len(c.Registrators) == 0 && !c.Exec.Enabled() && !l.diags.HasErrors() {
		read := "No configuration file was read"
		if len(l.names) > 0 {
			read = "Read: " + strings.Join(l.names, ", ")
		}
		l.errorNoPos("No jobs", "The configuration has no template, registrator or exec block and no -template flag, so drcon would have nothing to do. Load a file of shared settings with those of the jobs: -config base.hcl -config jobs/. %s.", read)
	}
}
