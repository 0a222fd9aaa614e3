package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/drcon/drcon/config"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// optionalBool is a boolean flag that stays nil until given, so that
// -dedup=false wins over a file as -dedup does. It takes -f, -f=true and
// -f=false, as consul-template's boolean flags do.
type optionalBool struct{ v **bool }

func (b optionalBool) IsBoolFlag() bool { return true }

func (b optionalBool) String() string {
	if b.v == nil || *b.v == nil {
		return ""
	}
	return strconv.FormatBool(**b.v)
}

func (b optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("not true or false")
	}
	*b.v = &v
	return nil
}

// timeoutFlag is -timeout: a duration worded as the configuration's are,
// with its unit; a negative one, which would never time out, is refused.
type timeoutFlag struct{ d *time.Duration }

func (f timeoutFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f timeoutFlag) Set(s string) error {
	v, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a duration such as \"30s\" or \"2m\" (0: no limit)", s)
	case v < 0:
		return fmt.Errorf("%q is negative (0: no limit)", s)
	}
	*f.d = v
	return nil
}

// addTimeout registers -timeout, the longest wait for data, on fs.
func addTimeout(fs *flag.FlagSet, usage string) *time.Duration {
	d := 60 * time.Second
	fs.Var(timeoutFlag{&d}, "timeout", usage)
	return &d
}

// refused is a consul-template flag that drcon does not take. Its Set
// fails, and leaves the reason where parse prints it alone, instead of the
// flag package's message followed by every flag. It acts as a boolean flag
// whatever it is in consul-template: it fails before it would use a value,
// and so "-vault-addr" last on the line is refused with the reason too, not
// with "flag needs an argument".
type refused struct {
	reason string
	hit    *string
}

func (r refused) IsBoolFlag() bool { return true }
func (r refused) String() string   { return "" }

func (r refused) Set(string) error {
	*r.hit = r.reason
	return errors.New(r.reason)
}

// Why drcon refuses consul-template's flags, worded as config/refuse.go
// refuses the same settings in files.
const (
	whyVault = "drcon reads Consul only; for Vault secrets use Vault Agent's templates."
	// Like a file's consul { transport {} }, these load with a warning.
	whyTransport = "drcon tunes its own HTTP transport to Consul (one connection pool for all watches)."
)

// ignoredFlags are consul-template v0.41.1's flags that drcon takes and
// ignores with a warning; true marks a boolean one.
var ignoredFlags = map[string]bool{
	"consul-transport-dial-keep-alive":         false,
	"consul-transport-dial-timeout":            false,
	"consul-transport-disable-keep-alives":     true,
	"consul-transport-max-idle-conns-per-host": false,
	"consul-transport-tls-handshake-timeout":   false,
}

// ignored is a flag of ignoredFlags: it takes a value as consul-template's
// does, and records that it was given.
type ignored struct {
	name   string
	isBool bool
	hits   *[]config.IgnoredFlag
}

func (f ignored) IsBoolFlag() bool { return f.isBool }
func (f ignored) String() string   { return "" }

func (f ignored) Set(string) error {
	*f.hits = append(*f.hits, config.IgnoredFlag{Name: f.name, Why: whyTransport})
	return nil
}

// refusedFlags are consul-template v0.41.1's flags that drcon refuses.
var refusedFlags = map[string]string{
	"vault-addr": whyVault, "vault-agent-token-file": whyVault, "vault-client-user-agent": whyVault,
	"vault-default-lease-duration": whyVault, "vault-renew-token": whyVault, "vault-token": whyVault,
	"vault-unwrap-token": whyVault, "vault-retry": whyVault, "vault-retry-attempts": whyVault,
	"vault-retry-backoff": whyVault, "vault-retry-max-backoff": whyVault, "vault-ssl": whyVault,
	"vault-ssl-ca-cert": whyVault, "vault-ssl-ca-path": whyVault, "vault-ssl-cert": whyVault,
	"vault-ssl-key": whyVault, "vault-ssl-server-name": whyVault, "vault-ssl-verify": whyVault,
	"vault-transport-dial-keep-alive": whyVault, "vault-transport-dial-timeout": whyVault,
	"vault-transport-disable-keep-alives": whyVault, "vault-transport-max-conns-per-host": whyVault,
	"vault-transport-max-idle-conns-per-host": whyVault, "vault-transport-tls-handshake-timeout": whyVault,

	"parse-only": "Use drcon validate to parse the configuration and every template, or the -once and -dry flags to render them without writing files.",
}

// common are the flags that locate and override the configuration; every
// subcommand that reads a configuration has them.
type common struct {
	configs   listFlag
	overrides config.Overrides
	templates listFlag
	// refusal is the reason of the refused flag that stopped parsing.
	refusal string
}

func (c *common) register(fs *flag.FlagSet) {
	o := &c.overrides
	fs.Var(&c.configs, "config", "configuration file or directory (repeatable; files merge)")
	fs.Var(&c.templates, "template", `template job "source:destination[:command]" (repeatable), as consul-template's`)
	fs.StringVar(&o.ConsulAddr, "consul-addr", "", "Consul address (overrides consul { address })")
	fs.StringVar(&o.LegacyConsulAddr, "consul", "", "consul-template's old name of -consul-addr")
	fs.StringVar(&o.ConsulToken, "consul-token", "", "Consul ACL token (overrides consul { token })")
	fs.StringVar(&o.ConsulTokenFile, "consul-token-file", "", "file holding the Consul ACL token (overrides consul { token_file }; wins over -consul-token)")
	fs.StringVar(&o.ConsulAuth, "consul-auth", "", `HTTP basic auth to Consul, "user[:password]" (overrides consul { auth })`)
	fs.Var(optionalBool{&o.ConsulSSL}, "consul-ssl", "HTTPS to Consul (overrides consul { tls { enabled } }); any -consul-ssl-* flag turns it on unless -consul-ssl=false")
	fs.Var(optionalBool{&o.ConsulSSLVerify}, "consul-ssl-verify", "verify Consul's certificate; =false skips it (overrides tls { insecure_skip_verify })")
	fs.StringVar(&o.ConsulSSLCACert, "consul-ssl-ca-cert", "", "CA certificate file (overrides tls { ca_file })")
	fs.StringVar(&o.ConsulSSLCAPath, "consul-ssl-ca-path", "", "directory of CA certificates (overrides tls { ca_path })")
	fs.StringVar(&o.ConsulSSLCert, "consul-ssl-cert", "", "client certificate file (overrides tls { cert_file })")
	fs.StringVar(&o.ConsulSSLKey, "consul-ssl-key", "", "client key file (overrides tls { key_file })")
	fs.StringVar(&o.ConsulSSLServerName, "consul-ssl-server-name", "", "name to verify Consul's certificate against (overrides tls { server_name })")
	fs.StringVar(&o.DefaultLeftDelimiter, "default-left-delimiter", "", "left delimiter of templates that set none (overrides default_delimiters { left })")
	fs.StringVar(&o.DefaultRightDelimiter, "default-right-delimiter", "", "right delimiter of templates that set none (overrides default_delimiters { right })")
	fs.StringVar(&o.Wait, "wait", "", "default quiescence min[:max], e.g. 2s:10s")
	fs.StringVar(&o.LogLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&o.KillSignal, "kill-signal", "", "signal that stops drcon gracefully (SIGTERM always does; SIGNULL: only SIGTERM)")
	fs.StringVar(&o.ReloadSignal, "reload-signal", "", "signal that reloads the configuration (SIGNULL: none)")
	fs.StringVar(&o.MaxStale, "max-stale", "", "accept stale answers up to this age, e.g. 2s")
	fs.StringVar(&o.PidFile, "pid-file", "", "write the process id to this file")
	fs.Var(optionalBool{&o.Dedup}, "dedup", "share dependency data among agents through Consul KV (overrides dedup { enabled })")
	fs.Var(optionalBool{&o.TemplateErrorFatal}, "template-error-fatal", "stop drcon when a template fails to execute (overrides every template's error_fatal and template_error_fatal)")
	fs.Var(optionalBool{&o.ErrOnFailedLookup}, "err-on-failed-lookup", "fail a template whose key Consul says does not exist, instead of waiting for it (overrides every template's err_on_failed_lookup)")
	fs.Var(optionalBool{&o.ConsulRetry}, "consul-retry", "retry failed Consul queries (the default); =false: a dependency fails at its first failure (overrides consul { retry { enabled } })")
	fs.StringVar(&o.RetryAttempts, "consul-retry-attempts", "", "failed queries in a row before a dependency fails (overrides consul { retry { attempts } }; 0: never)")
	fs.StringVar(&o.RetryBackoff, "consul-retry-backoff", "", "first wait after a failed query, e.g. 250ms")
	fs.StringVar(&o.LegacyRetry, "retry", "", "consul-template's old name of -consul-retry-backoff")
	fs.StringVar(&o.RetryMaxBackoff, "consul-retry-max-backoff", "", "longest wait between failed queries, e.g. 1m")
	fs.Var(optionalBool{&o.Syslog.Enabled}, "syslog", "send the log to the local syslog as well (overrides syslog { enabled })")
	fs.StringVar(&o.Syslog.Facility, "syslog-facility", "", "syslog facility, e.g. LOCAL0 (overrides syslog { facility }; turns syslog on)")
	fs.StringVar(&o.Syslog.Name, "syslog-name", "", "syslog tag (overrides syslog { name }; turns syslog on)")
	fs.StringVar(&o.LogFile.Path, "log-file", "", "write the log to files as well: PATH's name with a timestamp (overrides log_file { path })")
	fs.StringVar(&o.LogFile.RotateBytes, "log-rotate-bytes", "", "start a new log file after this many bytes (overrides log_file { log_rotate_bytes })")
	fs.StringVar(&o.LogFile.RotateDuration, "log-rotate-duration", "", "start a new log file when the current one is this old (overrides log_file { log_rotate_duration }; default 24h)")
	fs.StringVar(&o.LogFile.RotateMaxFiles, "log-rotate-max-files", "", "earlier log files to keep: 0 all, -1 none (overrides log_file { log_rotate_max_files })")
	e := &o.Exec
	fs.StringVar(&e.Command, "exec", "", "child process to supervise, started once every template has rendered (overrides exec { command })")
	fs.StringVar(&e.KillSignal, "exec-kill-signal", "", "signal that stops the child (overrides exec { kill_signal }; default SIGINT)")
	fs.StringVar(&e.KillTimeout, "exec-kill-timeout", "", "time the child has to stop before SIGKILL (overrides exec { kill_timeout }; default 30s)")
	fs.StringVar(&e.ReloadSignal, "exec-reload-signal", "", "signal sent to the child when a template changes; SIGNULL restarts it instead (overrides exec { reload_signal })")
	fs.StringVar(&e.Splay, "exec-splay", "", "longest random delay before the child is reloaded or restarted (overrides exec { splay })")
	fs.Var(optionalBool{&e.EnvPristine}, "exec-env-pristine", "start the child with only drcon's and the custom variables (overrides exec { env { pristine } })")
	fs.Var((*listFlag)(&e.EnvCustom), "exec-env-custom", "NAME=value for the child's environment (repeatable; adds to exec { env { custom } })")
	fs.Var((*listFlag)(&e.EnvAllowlist), "exec-env-allowlist", "glob of variable names the child gets (repeatable; adds to exec { env { allowlist } })")
	fs.Var((*listFlag)(&e.EnvDenylist), "exec-env-denylist", "glob of variable names the child does not get (repeatable; adds to exec { env { denylist } })")
	for name, isBool := range ignoredFlags {
		fs.Var(ignored{name, isBool, &o.IgnoredFlags}, name, "")
	}
	for name, why := range refusedFlags {
		fs.Var(refused{fmt.Sprintf("-%s is not supported. %s", name, why), &c.refusal}, name, "")
	}
}

// parse parses args into fs and reports whether the command goes on; if
// not, code is its exit code. -h prints fs.Usage. A bad flag prints one
// line and a hint, not the usage: a page of flags would bury the message.
func (c *common) parse(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	help := fs.Usage
	fs.Usage = func() {} // the flag package calls it on every error too
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		help()
		return exitOK, false
	case c.refusal != "":
		fmt.Fprintln(stderr, "drcon:", c.refusal)
	default:
		fmt.Fprintf(stderr, "%s: %v\nrun %[1]s -h for the flags\n", fs.Name(), err)
	}
	return exitUsage, false
}

// load reads the configuration the flags point at.
func (c *common) load() (*config.Config, error) {
	o := c.overrides
	o.Templates = c.templates
	return config.Load(c.configs, o)
}

// loadExit prints why the configuration did not load, with every
// diagnostic, and picks the exit code: a bad flag value is a usage error,
// anything else a configuration error.
func loadExit(w io.Writer, err error) int {
	if ce, ok := err.(*config.Error); ok {
		_, _ = ce.WriteTo(w, false)
	} else {
		fmt.Fprintln(w, "drcon:", err)
	}
	if config.BadFlag(err) {
		return exitUsage
	}
	return exitConfig
}

// newFlagSet is a flag set for common.parse. Its usage, for -h, lists the
// flags on stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints the errors
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage of %s:\n", name)
		printFlags(stderr, fs)
	}
	return fs
}

// printFlags prints fs's flags as PrintDefaults does, without the refused
// and ignored consul-template flags: fifty lines of what drcon does not do
// would bury what it does.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	shown.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		switch f.Value.(type) {
		case refused, ignored:
		default:
			shown.Var(f.Value, f.Name, f.Usage)
			shown.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	shown.PrintDefaults()
}
