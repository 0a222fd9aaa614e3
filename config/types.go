package config

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Config is a whole, validated configuration: every file given to -config
// merged, defaults applied, the environment and the flags folded in.
type Config struct {
	// Files are the files that were read, in order.
	Files []string

	LogLevel       string  // debug | info | warn | error
	LogFormat      string  // text | json
	Syslog         Syslog  // the log goes to syslog too
	LogFile        LogFile // and to files
	PidFile        string
	KillSignal     Signal // default SIGINT; SIGTERM always stops too
	ReloadSignal   Signal // default SIGHUP; zero disables
	MaxStale       time.Duration
	BlockQueryWait time.Duration
	Wait           Wait // default quiescence of template jobs
	Status         Status
	Consul         Consul
	Dedup          Dedup

	Templates    []*Template
	Registrators []*Registrator
	// Exec is the child process drcon supervises (consul-template's exec
	// mode); off when its Command is empty.
	Exec Exec

	// Warnings are deprecated or ignored consul-template keys that were
	// accepted; WriteWarnings renders them with their source snippets.
	Warnings hcl.Diagnostics
	// files are the parsed configuration files, for rendering Warnings.
	files map[string]*hcl.File
}

// Signal is a signal given by name in the configuration.
type Signal struct {
	Name   string // as written, e.g. "SIGHUP"; empty when disabled
	Signal syscall.Signal
}

// Wait is a quiescence window: render after Min without changes, and at most
// Max after the first change. Zero Min disables it.
type Wait struct {
	Min time.Duration
	Max time.Duration
}

// Enabled reports whether the window delays renders at all.
func (w Wait) Enabled() bool { return w.Min > 0 }

// Status is the HTTP listener for status, health and metrics.
type Status struct {
	Address string // empty: off
}

// Consul is how drcon reaches Consul. Empty fields were filled from the
// CONSUL_HTTP_* environment as consul/api does; the file wins over the
// environment and a flag over the file.
type Consul struct {
	Address    string
	Token      string
	TokenFile  string
	Datacenter string
	Namespace  string
	// UseCache sends health queries through the agent's cache (?cached),
	// the Consul-native way to spread watch load.
	UseCache bool
	TLS      TLS
	Retry    Retry
	Auth     Auth
}

// Auth is HTTP basic authentication to Consul (consul-template's
// consul.auth, the CONSUL_HTTP_AUTH environment variable).
type Auth struct {
	Enabled  bool
	Username string
	Password string
}

// TLS configures HTTPS to Consul.
type TLS struct {
	Enabled            bool
	CAFile             string
	CAPath             string
	CertFile           string
	KeyFile            string
	ServerName         string
	InsecureSkipVerify bool
	// CAPEM is a CA given as PEM text (consul-template's ssl.ca_cert_bytes).
	CAPEM string
}

// Retry is the backoff of failing Consul queries. After Attempts consecutive
// failures a dependency is reported as failed (and -once gives up); a running
// agent keeps retrying at MaxBackoff so that it heals when Consul returns.
type Retry struct {
	Attempts   int // 0: never reported as failed
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Dedup shares the data of dependencies among agents through Consul KV.
type Dedup struct {
	Enabled bool
	Prefix  string
	TTL     time.Duration
}

// Command is a command given either as one string, run by /bin/sh -c, or as a
// list, run as argv without a shell. The zero value is no command.
type Command struct {
	Shell string
	Argv  []string
}

// String is the command as logs and status show it: a list's elements
// quoted where a shell would need it.
func (c Command) String() string {
	if c.Shell != "" {
		return c.Shell
	}
	q := make([]string, len(c.Argv))
	for i, a := range c.Argv {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`") {
			q[i] = strconv.Quote(a)
		}
	}
	return strings.Join(q, " ")
}

// Empty reports whether no command is configured.
func (c Command) Empty() bool { return c.Shell == "" && len(c.Argv) == 0 }

// Template is one template job.
type Template struct {
	// Name is the block label or, for an unlabeled consul-template style
	// block, the destination.
	Name string
	// DeclRange is where the block starts, for diagnostics.
	DeclRange hcl.Range

	Source string // path of the template file, "" when Contents is used
	// Text is the template itself: the contents of Source, read when the
	// configuration was loaded, or Contents.
	Text        string
	Destination string

	CreateDestDirs bool        // default true
	Perms          os.FileMode // 0: keep the existing file's mode, else 0644
	User           string
	Group          string
	Backup         bool
	// Atomic writes a temp file and renames it over the destination (the
	// default). false writes in place, for single-file bind mounts.
	Atomic bool

	Wait Wait // the job's own window, or the top-level one

	Command          Command
	CommandEnv       CommandEnv
	CommandTimeout   time.Duration // default 30s
	OnCommandFailure string        // "log" (default) | "exit"
	// ExecOnChange is what a change of this template's file does to exec
	// mode's child: "reload" (the reload signal), "restart", or "none";
	// "" follows the exec block (reload when it has a reload signal).
	ExecOnChange string
	Check        Command

	LeftDelimiter     string
	RightDelimiter    string
	ErrorOnMissingKey bool
	FunctionDenylist  []string
	SandboxPath       string
	// ErrorFatal stops drcon when the template fails to execute, as
	// consul-template's error_fatal does; drcon's default is false.
	ErrorFatal bool
	// ErrOnFailedLookup makes a key that Consul answers does not exist a
	// failure of the template (as its error_fatal says), instead of
	// waiting for the key: consul-template's err_on_failed_lookup.
	ErrOnFailedLookup bool
}

// Exec is consul-template's exec mode: one child process, started once
// every template has rendered, told of each later write of a template by
// ReloadSignal (or restarted when that is off), stopped with KillSignal and,
// after KillTimeout, SIGKILL. drcon stops when it exits, with its code.
type Exec struct {
	Command      Command
	Env          CommandEnv
	KillSignal   Signal        // default SIGINT
	KillTimeout  time.Duration // default 30s
	ReloadSignal Signal        // zero: restart the child instead
	// Splay is the longest random delay before the reload signal or the
	// restart, so that many hosts do not reload at once.
	Splay time.Duration
}

// Enabled reports whether drcon supervises a child.
func (e Exec) Enabled() bool { return !e.Command.Empty() }

// CommandEnv is the environment of a template's command, from
// consul-template's exec { env { } }: the agent's environment filtered by
// Allowlist and Denylist (globs on names), or none when Pristine, then
// drcon's CONSUL_HTTP_* variables, then Custom (NAME=value), later values
// winning.
type CommandEnv struct {
	Pristine  bool
	Custom    []string
	Allowlist []string
	Denylist  []string
}

// Registrator is one registrator block: a Docker engine whose containers are
// kept registered in Consul.
type Registrator struct {
	Name      string
	DeclRange hcl.Range

	DockerHost string // default DOCKER_HOST, else unix:///var/run/docker.sock
	DockerTLS  DockerTLS

	HostIP         string
	Internal       bool
	Network        string
	Explicit       bool
	UseIPFromLabel string
	Tags           []string
	Resync         time.Duration // 0: no periodic reconcile
	Cleanup        bool          // default true
	Deregister     string        // "always" (default) | "on-success"
	// DeregisterOnExit removes this block's services when drcon stops or
	// the block is removed by a reload. Default false.
	DeregisterOnExit bool
	Health           string            // "" | "docker"
	Filter           map[string]string // container labels that must match; value "" matches any value
	AddressFamily    string            // "ipv4" (default) | "ipv6"
}

// DockerTLS configures TLS to a remote Docker engine; the DOCKER_CERT_PATH and
// DOCKER_TLS_VERIFY environment variables apply as in the docker CLI.
type DockerTLS struct {
	CAFile   string
	CertFile string
	KeyFile  string
	Verify   bool
}
