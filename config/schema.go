package config

import "github.com/hashicorp/hcl/v2"

// The raw* types are the schema, decoded by gohcl. Attributes stay
// unevaluated *hcl.Attribute values (nil when absent) so that files can be
// merged key by key before anything is evaluated, and so that every later
// check can point at the attribute's own source range.

// rawFile is one configuration file as written.
type rawFile struct {
	LogLevel       *hcl.Attribute `hcl:"log_level,optional"`
	LogFormat      *hcl.Attribute `hcl:"log_format,optional"`
	PidFile        *hcl.Attribute `hcl:"pid_file,optional"`
	KillSignal     *hcl.Attribute `hcl:"kill_signal,optional"`
	ReloadSignal   *hcl.Attribute `hcl:"reload_signal,optional"`
	MaxStale       *hcl.Attribute `hcl:"max_stale,optional"`
	BlockQueryWait *hcl.Attribute `hcl:"block_query_wait,optional"`
	// wait is either an attribute ("min[:max]") or a block.
	WaitAttr   *hcl.Attribute `hcl:"wait,optional"`
	Wait       *rawWait       `hcl:"wait,block"`
	Status     *rawStatus     `hcl:"status,block"`
	Delimiters *rawDelimiters `hcl:"default_delimiters,block"`
	// ConsulAttr is consul-template's legacy `consul = "addr"`.
	ConsulAttr  *hcl.Attribute `hcl:"consul,optional"`
	Consul      *rawConsul     `hcl:"consul,block"`
	Dedup       *rawDedup      `hcl:"dedup,block"`
	Deduplicate *rawDedup      `hcl:"deduplicate,block"`

	Templates    []*rawTemplate    `hcl:"template,block"`
	Registrators []*rawRegistrator `hcl:"registrator,block"`
	// Exec is consul-template's supervisor mode (exec.go).
	Exec    *rawExec    `hcl:"exec,block"`
	Syslog  *rawSyslog  `hcl:"syslog,block"`
	LogFile *rawLogFile `hcl:"log_file,block"`

	// consul-template keys that drcon refuses or ignores; see refuse.go.
	Vault       []*rawAny      `hcl:"vault,block"`
	Nomad       []*rawAny      `hcl:"nomad,block"`
	Once        *hcl.Attribute `hcl:"once,optional"`
	ParseOnly   *hcl.Attribute `hcl:"parse_only,optional"`
	ParseOnlyCT *hcl.Attribute `hcl:"parseonly,optional"`

	// Defaults of every template's error_fatal and err_on_failed_lookup.
	TemplateErrorFatal *hcl.Attribute `hcl:"template_error_fatal,optional"`
	ErrOnFailedLookup  *hcl.Attribute `hcl:"err_on_failed_lookup,optional"`
}

// rawAny is a block whose contents are not looked at.
type rawAny struct {
	DefRange hcl.Range `hcl:",def_range"`
	Body     hcl.Body  `hcl:",remain"`
}

type rawWait struct {
	DefRange hcl.Range      `hcl:",def_range"`
	Min      *hcl.Attribute `hcl:"min,optional"`
	Max      *hcl.Attribute `hcl:"max,optional"`
	// Bool is consul-template's switch of a wait block, spelled "bool"
	// there (its "enabled" is refused).
	Bool *hcl.Attribute `hcl:"bool,optional"`
}

type rawStatus struct {
	Address *hcl.Attribute `hcl:"address,optional"`
}

type rawDelimiters struct {
	Left  *hcl.Attribute `hcl:"left,optional"`
	Right *hcl.Attribute `hcl:"right,optional"`
}

type rawConsul struct {
	Address    *hcl.Attribute `hcl:"address,optional"`
	Token      *hcl.Attribute `hcl:"token,optional"`
	TokenFile  *hcl.Attribute `hcl:"token_file,optional"`
	Datacenter *hcl.Attribute `hcl:"datacenter,optional"`
	Namespace  *hcl.Attribute `hcl:"namespace,optional"`
	UseCache   *hcl.Attribute `hcl:"use_cache,optional"`
	TLS        *rawTLS        `hcl:"tls,block"`
	SSL        *rawSSL        `hcl:"ssl,block"`
	Retry      *rawRetry      `hcl:"retry,block"`
	Auth       *rawAuth       `hcl:"auth,block"`
	Transport  *rawAny        `hcl:"transport,block"`
}

type rawTLS struct {
	DefRange           hcl.Range      `hcl:",def_range"`
	Enabled            *hcl.Attribute `hcl:"enabled,optional"`
	CAFile             *hcl.Attribute `hcl:"ca_file,optional"`
	CAPath             *hcl.Attribute `hcl:"ca_path,optional"`
	CertFile           *hcl.Attribute `hcl:"cert_file,optional"`
	KeyFile            *hcl.Attribute `hcl:"key_file,optional"`
	ServerName         *hcl.Attribute `hcl:"server_name,optional"`
	InsecureSkipVerify *hcl.Attribute `hcl:"insecure_skip_verify,optional"`
	// Verify is consul-template's ssl.verify, the inverse of
	// insecure_skip_verify, and CACertBytes its ssl.ca_cert_bytes (PEM);
	// only an ssl block sets them.
	Verify, CACertBytes *hcl.Attribute
}

// rawSSL is consul-template's name and spelling of the tls block.
type rawSSL struct {
	DefRange   hcl.Range      `hcl:",def_range"`
	Enabled    *hcl.Attribute `hcl:"enabled,optional"`
	Verify     *hcl.Attribute `hcl:"verify,optional"`
	Cert       *hcl.Attribute `hcl:"cert,optional"`
	Key        *hcl.Attribute `hcl:"key,optional"`
	CACert     *hcl.Attribute `hcl:"ca_cert,optional"`
	CAPath     *hcl.Attribute `hcl:"ca_path,optional"`
	ServerName *hcl.Attribute `hcl:"server_name,optional"`
	// CACertBytes is the CA as PEM text; consul-template parsed it and did
	// not pass it on to Consul's client, drcon does.
	CACertBytes *hcl.Attribute `hcl:"ca_cert_bytes,optional"`
}

type rawRetry struct {
	Enabled    *hcl.Attribute `hcl:"enabled,optional"`
	Attempts   *hcl.Attribute `hcl:"attempts,optional"`
	Backoff    *hcl.Attribute `hcl:"backoff,optional"`
	MaxBackoff *hcl.Attribute `hcl:"max_backoff,optional"`
}

type rawAuth struct {
	Enabled  *hcl.Attribute `hcl:"enabled,optional"`
	Username *hcl.Attribute `hcl:"username,optional"`
	Password *hcl.Attribute `hcl:"password,optional"`
}

type rawDedup struct {
	DefRange hcl.Range      `hcl:",def_range"`
	Enabled  *hcl.Attribute `hcl:"enabled,optional"`
	Prefix   *hcl.Attribute `hcl:"prefix,optional"`
	TTL      *hcl.Attribute `hcl:"ttl,optional"`
	// consul-template's deduplicate block also has these; drcon uses the
	// top-level ones.
	MaxStale       *hcl.Attribute `hcl:"max_stale,optional"`
	BlockQueryWait *hcl.Attribute `hcl:"block_query_wait,optional"`
}

type rawTemplate struct {
	Name     string    `hcl:"name,label"`
	DefRange hcl.Range `hcl:",def_range"`
	// Unlabeled marks consul-template's template {}, named by destination.
	Unlabeled bool

	Source         *hcl.Attribute `hcl:"source,optional"`
	Contents       *hcl.Attribute `hcl:"contents,optional"`
	Destination    *hcl.Attribute `hcl:"destination,optional"`
	CreateDestDirs *hcl.Attribute `hcl:"create_dest_dirs,optional"`
	Perms          *hcl.Attribute `hcl:"perms,optional"`
	User           *hcl.Attribute `hcl:"user,optional"`
	Group          *hcl.Attribute `hcl:"group,optional"`
	UID            *hcl.Attribute `hcl:"uid,optional"`
	GID            *hcl.Attribute `hcl:"gid,optional"`
	Backup         *hcl.Attribute `hcl:"backup,optional"`
	Atomic         *hcl.Attribute `hcl:"atomic,optional"`
	WaitAttr       *hcl.Attribute `hcl:"wait,optional"`
	Wait           *rawWait       `hcl:"wait,block"`

	Command          *hcl.Attribute `hcl:"command,optional"`
	CommandTimeout   *hcl.Attribute `hcl:"command_timeout,optional"`
	Exec             *rawExec       `hcl:"exec,block"`
	OnCommandFailure *hcl.Attribute `hcl:"on_command_failure,optional"`
	ExecOnChange     *hcl.Attribute `hcl:"exec_on_change,optional"`
	Check            *hcl.Attribute `hcl:"check,optional"`

	LeftDelimiter     *hcl.Attribute `hcl:"left_delimiter,optional"`
	RightDelimiter    *hcl.Attribute `hcl:"right_delimiter,optional"`
	ErrorOnMissingKey *hcl.Attribute `hcl:"error_on_missing_key,optional"`
	ErrorFatal        *hcl.Attribute `hcl:"error_fatal,optional"`
	ErrOnFailedLookup *hcl.Attribute `hcl:"err_on_failed_lookup,optional"`
	FunctionDenylist  *hcl.Attribute `hcl:"function_denylist,optional"`
	FunctionBlacklist *hcl.Attribute `hcl:"function_blacklist,optional"`
	SandboxPath       *hcl.Attribute `hcl:"sandbox_path,optional"`
}

// rawExec is consul-template's exec block: at the top level, the child
// process drcon supervises; in a template, an alias of command and
// command_timeout, and the command's environment.
type rawExec struct {
	DefRange hcl.Range      `hcl:",def_range"`
	Command  *hcl.Attribute `hcl:"command,optional"`
	Timeout  *hcl.Attribute `hcl:"timeout,optional"`
	Enabled  *hcl.Attribute `hcl:"enabled,optional"`
	Env      *rawExecEnv    `hcl:"env,block"`
	// Settings of the supervised child; in a template they load with a
	// warning, having no use for a command that runs to completion.
	Splay        *hcl.Attribute `hcl:"splay,optional"`
	KillSignal   *hcl.Attribute `hcl:"kill_signal,optional"`
	KillTimeout  *hcl.Attribute `hcl:"kill_timeout,optional"`
	ReloadSignal *hcl.Attribute `hcl:"reload_signal,optional"`
}

// rawExecEnv is consul-template's env block of a template's exec.
type rawExecEnv struct {
	DefRange  hcl.Range      `hcl:",def_range"`
	Pristine  *hcl.Attribute `hcl:"pristine,optional"`
	Custom    *hcl.Attribute `hcl:"custom,optional"`
	Allowlist *hcl.Attribute `hcl:"allowlist,optional"`
	Denylist  *hcl.Attribute `hcl:"denylist,optional"`
	Whitelist *hcl.Attribute `hcl:"whitelist,optional"` // old name of allowlist
	Blacklist *hcl.Attribute `hcl:"blacklist,optional"` // old name of denylist
}
