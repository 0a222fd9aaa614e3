package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Overrides are consul-template's common command-line flags. A non-empty
// (non-nil) field wins over the configuration files, which win over the
// environment.
type Overrides struct {
	// Templates are -template "src:dest[:command]" flags; a ':' after the
	// destination belongs to the command. Each adds a template job named
	// by its destination; src is relative to the working directory.
	Templates    []string
	ConsulAddr   string // -consul-addr
	ConsulToken  string // -consul-token
	Wait         string // -wait "min[:max]"
	LogLevel     string // -log-level
	KillSignal   string // -kill-signal
	ReloadSignal string // -reload-signal
	MaxStale     string // -max-stale
	PidFile      string // -pid-file
	// -consul-token-file; with -consul-token too, the file wins, as in
	// consul/api.
	ConsulTokenFile string
	ConsulAuth      string // -consul-auth "user[:password]"
	// IgnoredFlags are consul-template flags drcon takes and ignores, each
	// with why; each loads with a warning, as their settings in a file do.
	IgnoredFlags []IgnoredFlag
	// -default-left-delimiter and -default-right-delimiter: the delimiters
	// of templates that set none (default_delimiters { left right }).
	DefaultLeftDelimiter, DefaultRightDelimiter string
	// -consul-ssl-ca-cert, -consul-ssl-ca-path, -consul-ssl-cert,
	// -consul-ssl-key, -consul-ssl-server-name
	ConsulSSLCACert, ConsulSSLCAPath, ConsulSSLCert, ConsulSSLKey, ConsulSSLServerName string
	// The boolean flags are nil when not given: false is a value that
	// wins over the file too. -consul-ssl, -consul-ssl-verify, -dedup.
	ConsulSSL, ConsulSSLVerify, Dedup *bool
	// -consul-retry-attempts, -consul-retry-backoff, -consul-retry-max-backoff
	RetryAttempts, RetryBackoff, RetryMaxBackoff string
	// LegacyRetry is -retry, consul-template's old name of
	// -consul-retry-backoff; -consul-retry-backoff wins over it.
	LegacyRetry string
	ConsulRetry *bool // -consul-retry
	// TemplateErrorFatal is -template-error-fatal: every template's
	// error_fatal.
	TemplateErrorFatal *bool
	// ErrOnFailedLookup is -err-on-failed-lookup: every template's
	// err_on_failed_lookup.
	ErrOnFailedLookup *bool
	// LegacyConsulAddr is -consul, consul-template's old name of
	// -consul-addr, taken with a warning as consul = "addr" is in a file;
	// -consul-addr wins over it.
	LegacyConsulAddr string
	// Exec holds the -exec* flags.
	Exec ExecOverrides
	// Syslog holds -syslog, -syslog-facility and -syslog-name.
	Syslog SyslogOverrides
	// LogFile holds -log-file and -log-rotate-*.
	LogFile LogFileOverrides
	// Dry is -dry: a -template flag may leave out its destination, as in
	// consul-template, since nothing is written.
	Dry bool
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// IgnoredFlag is a flag given and ignored, and why.
type IgnoredFlag struct{ Name, Why string }

// applyGlobalOverrides applies the flags that are not templates.
func (l *loader) applyGlobalOverrides(c *Config) {
	o := l.o
	for _, f := range o.IgnoredFlags {
		l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Ignored flag",
			Detail: fmt.Sprintf("-%s is ignored: %s", f.Name, f.Why)})
	}
	if o.LogLevel != "" {
		if v, err := parseLogLevel(o.LogLevel); err != nil {
			l.flagError("-log-level", err)
		} else {
			c.LogLevel = v
		}
	}
	// SIGNULL turns them off, as "" does in a file (an empty flag is no flag).
	l.flagSignal("-kill-signal", o.KillSignal, &c.KillSignal, true)
	l.flagSignal("-reload-signal", o.ReloadSignal, &c.ReloadSignal, true)
	l.flagDuration("-max-stale", o.MaxStale, &c.MaxStale, false)
	if o.Wait != "" {
		if v, err := parseWaitString(o.Wait); err != nil {
			l.flagError("-wait", err)
		} else {
			c.Wait = v
		}
	}
	if o.PidFile != "" {
		c.PidFile = o.PidFile
	}
	l.legacyConsulAddr(c)
	if o.ConsulAddr != "" {
		c.Consul.Address = o.ConsulAddr
	}
	if o.ConsulToken != "" {
		c.Consul.Token, c.Consul.TokenFile = o.ConsulToken, ""
	}
	if o.ConsulTokenFile != "" {
		c.Consul.Token, c.Consul.TokenFile = "", o.ConsulTokenFile
	}
	if o.ConsulAuth != "" {
		user, pass, _ := strings.Cut(o.ConsulAuth, ":")
		c.Consul.Auth = Auth{Enabled: true, Username: user, Password: pass}
	}
	o.tlsOverrides(&c.Consul.TLS, l.tlsEnabledSet)
	l.retryOverrides(&c.Consul.Retry)
	if o.Dedup != nil {
		c.Dedup.Enabled = *o.Dedup
	}
	// consul/api speaks HTTPS to an https:// address whatever else says.
	if strings.HasPrefix(c.Consul.Address, "https://") {
		c.Consul.TLS.Enabled = true
	}
}

// legacyConsulAddr applies -consul, which consul-template v0.41 no longer
// takes but many command lines written for its earlier versions still give:
// it loads, with a warning, as consul = "addr" does in a file.
func (l *loader) legacyConsulAddr(c *Config) {
	old := l.o.LegacyConsulAddr
	if old == "" {
		return
	}
	detail := "-consul is consul-template's old name of -consul-addr (v0.41 no longer takes it); write -consul-addr."
	if l.o.ConsulAddr != "" {
		detail = "-consul is ignored: -consul-addr, its new name, is also given and wins."
	} else {
		c.Consul.Address = old
	}
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Deprecated flag", Detail: detail})
}

// tlsOverrides applies the -consul-ssl* flags. As in consul-template, any
// of them turns TLS on, unless a file says enabled = false; -consul-ssl
// decides over both.
func (o Overrides) tlsOverrides(t *TLS, enabledSet bool) {
	// A certificate flag without a key flag names a file holding both, as
	// a certificate without a key does in a file; it replaces a key that
	// was the file's certificate too.
	if o.ConsulSSLCert != "" && o.ConsulSSLKey == "" && (t.KeyFile == "" || t.KeyFile == t.CertFile) {
		t.KeyFile = o.ConsulSSLCert
	}
	set := false
	for _, f := range []struct {
		value string
		dst   *string
	}{
		{o.ConsulSSLCACert, &t.CAFile}, {o.ConsulSSLCAPath, &t.CAPath}, {o.ConsulSSLCert, &t.CertFile},
		{o.ConsulSSLKey, &t.KeyFile}, {o.ConsulSSLServerName, &t.ServerName},
	} {
		if f.value != "" {
			*f.dst, set = f.value, true
		}
	}
	if o.ConsulSSLVerify != nil {
		t.InsecureSkipVerify, set = !*o.ConsulSSLVerify, true
	}
	if set && !enabledSet {
		t.Enabled = true
	}
	if o.ConsulSSL != nil {
		t.Enabled = *o.ConsulSSL
	}
}

// defaultRetryAttempts is consul { retry { attempts } }'s default, which
// -consul-retry restores when a file turned retries off.
const defaultRetryAttempts = 12

// retryOverrides applies consul-template's -consul-retry* and -retry flags.
func (l *loader) retryOverrides(r *Retry) {
	o := l.o
	if o.RetryAttempts != "" {
		if n, err := strconv.Atoi(o.RetryAttempts); err != nil {
			l.flagError("-consul-retry-attempts", fmt.Errorf("%q is not a number of attempts (0: never give up)", o.RetryAttempts))
		} else {
			r.Attempts = max(n, 0) // negative: never give up, as in consul-template
		}
		if l.retryOff && (o.ConsulRetry == nil || !*o.ConsulRetry) {
			r.Attempts = 1 // the file's enabled = false stands, as in consul-template
		}
	}
	for _, f := range []struct {
		flag, value string
		dst         *time.Duration
	}{
		{"-retry", o.LegacyRetry, &r.Backoff},
		{"-consul-retry-backoff", o.RetryBackoff, &r.Backoff},
		{"-consul-retry-max-backoff", o.RetryMaxBackoff, &r.MaxBackoff},
	} {
		if f.value == "" {
			continue
		}
		if v, err := parseDuration(f.value); err != nil || v <= 0 {
			l.flagError(f.flag, fmt.Errorf("%q is not a positive duration", f.value))
		} else {
			*f.dst = v
		}
	}
	// -consul-retry=false is retry { enabled = false }, which drcon reads
	// as one attempt: the first failure fails the dependency. -consul-retry
	// undoes that of a file, back to the default attempts unless
	// -consul-retry-attempts gives them.
	if o.ConsulRetry != nil {
		switch {
		case !*o.ConsulRetry:
			r.Attempts = 1
		case r.Attempts == 1 && o.RetryAttempts == "":
			r.Attempts = defaultRetryAttempts
		}
	}
	// As in consul-template, max_backoff caps every wait, the first too.
	r.Backoff = min(r.Backoff, r.MaxBackoff)
}

// badFlag marks the diagnostics of bad flag values (in hcl.Diagnostic's
// Extra), for BadFlag.
type badFlag struct{}

// flagSignal sets *dst from a signal flag's value, if the flag was given.
func (l *loader) flagSignal(flag, value string, dst *Signal, allowEmpty bool) {
	if value == "" {
		return
	}
	v, err := parseSignal(value, allowEmpty)
	if err != nil {
		l.flagError(flag, err)
		return
	}
	*dst = v
}

// flagDuration sets *dst from a duration flag's value, if the flag was
// given; positive refuses 0.
func (l *loader) flagDuration(flag, value string, dst *time.Duration, positive bool) {
	if value == "" {
		return
	}
	v, err := parseDuration(value)
	if err == nil && positive && v == 0 {
		err = errors.New("it must be more than 0")
	}
	if err != nil {
		l.flagError(flag, err)
		return
	}
	*dst = v
}

func (l *loader) flagError(flag string, err error) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Invalid " + flag + " flag",
		Detail:   err.Error() + ".",
		Extra:    badFlag{},
	})
}

// BadFlag reports whether a Load error names a bad flag value, an
// Overrides field: a command line exits with its usage code for those,
// whatever the files hold, as if it had checked its flags first.
func BadFlag(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, d := range e.Diagnostics {
		if _, ok := d.Extra.(badFlag); ok {
			return true
		}
	}
	return false
}

// flagTemplates turns the -template flags into template jobs.
func (l *loader) flagTemplates(wait Wait, delims [2]string) []*Template {
	var ts []*Template
	for _, spec := range l.o.Templates {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) == 1 && l.o.Dry {
			parts = append(parts, "")
		}
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" && !l.o.Dry {
			l.flagError("-template", fmt.Errorf("%q is not \"src:dest[:command]\"", spec))
			continue
		}
		t := l.newTemplate(wait, delims)
		t.Name, t.Source, t.Destination = parts[1], parts[0], parts[1]
		if t.Name == "" {
			t.Name = t.Source
		}
		if len(parts) == 3 {
			t.Command.Shell = parts[2]
		}
		b, err := readFile(t.Source)
		if err != nil {
			// A template that cannot be read is a template error, exit 3,
			// whether a file or the flag names it.
			l.errorNoPos("Cannot read template source", "-template %q: %s.", spec, err)
			continue
		}
		t.Text = string(b)
		ts = append(ts, t)
	}
	return ts
}
