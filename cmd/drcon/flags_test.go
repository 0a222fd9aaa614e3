package main

import (
	"bytes"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/config"
)

// consulTemplateFlags are every flag of consul-template v0.41.1 (cli.go).
const consulTemplateFlags = `config consul-addr consul-auth consul-retry consul-retry-attempts
consul-retry-backoff consul-retry-max-backoff consul-ssl consul-ssl-ca-cert consul-ssl-ca-path
consul-ssl-cert consul-ssl-key consul-ssl-server-name consul-ssl-verify consul-token consul-token-file
consul-transport-dial-keep-alive consul-transport-dial-timeout consul-transport-disable-keep-alives
consul-transport-max-idle-conns-per-host consul-transport-tls-handshake-timeout dedup
default-left-delimiter default-right-delimiter dry exec exec-kill-signal exec-kill-timeout
exec-reload-signal exec-splay exec-env-pristine exec-env-custom exec-env-allowlist exec-env-denylist
kill-signal log-level log-file log-rotate-bytes log-rotate-duration log-rotate-max-files max-stale once
parse-only pid-file reload-signal retry syslog syslog-facility syslog-name template template-error-fatal
vault-addr vault-renew-token vault-retry vault-retry-attempts vault-retry-backoff vault-retry-max-backoff
vault-client-user-agent vault-ssl vault-ssl-ca-cert vault-ssl-ca-path vault-ssl-cert vault-ssl-key
vault-ssl-server-name vault-ssl-verify vault-transport-dial-keep-alive vault-transport-dial-timeout
vault-transport-disable-keep-alives vault-transport-max-idle-conns-per-host
vault-transport-max-conns-per-host vault-transport-tls-handshake-timeout vault-token
vault-agent-token-file vault-unwrap-token vault-default-lease-duration wait v version`

// subcommands are the command lines that take the configuration flags;
// status is given -config so that it loads the configuration.
var subcommands = [][]string{{}, {"validate"}, {"snapshot"}, {"status"}}

// TestConsulTemplateFlags: drcon defines every consul-template flag, either
// as its own or refused with a reason; none is "not defined".
func TestConsulTemplateFlags(t *testing.T) {
	fs := newFlagSet("drcon", io.Discard)
	var c common
	c.register(fs)
	fs.Bool("once", false, "")
	fs.Bool("dry", false, "")
	fs.Bool("v", false, "")
	fs.Bool("version", false, "")
	ct := map[string]bool{}
	for _, name := range strings.Fields(consulTemplateFlags) {
		ct[name] = true
		if fs.Lookup(name) == nil {
			t.Errorf("consul-template's -%s is not defined", name)
		}
	}
	// drcon's own flags cannot be refused: registering both panics.
	for name := range refusedFlags {
		if !ct[name] {
			t.Errorf("-%s is refused as consul-template's, which has no such flag", name)
		}
	}
	for name := range ignoredFlags {
		if !ct[name] {
			t.Errorf("-%s is ignored as consul-template's, which has no such flag", name)
		}
	}
}

// TestIgnoredFlags: consul-template's transport flags load with a warning,
// each with its value in consul-template's form, as transport {} in a file.
func TestIgnoredFlags(t *testing.T) {
	cfg, err := loadFlags(t, "", "-consul-transport-dial-timeout", "5s", "-consul-transport-disable-keep-alives",
		"-consul-transport-max-idle-conns-per-host=10", "-consul-ssl-verify=false")
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	for _, w := range cfg.Warnings {
		if w.Summary == "Ignored flag" {
			warned = append(warned, strings.Fields(w.Detail)[0])
		}
	}
	want := []string{"-consul-transport-dial-timeout", "-consul-transport-disable-keep-alives", "-consul-transport-max-idle-conns-per-host"}
	if !reflect.DeepEqual(warned, want) || !cfg.Consul.TLS.InsecureSkipVerify {
		t.Errorf("warned of %v, want %v; the flags after them must still apply: %+v", warned, want, cfg.Consul.TLS)
	}
}

// TestLegacyConsulFlag: -consul, consul-template's old name of -consul-addr
// (v0.41 no longer takes it) and still on many command lines, sets the
// address with a warning; -consul-addr wins over it.
func TestLegacyConsulFlag(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		addr, warn string
	}{
		{[]string{"-consul", "10.0.0.1:8500"}, "10.0.0.1:8500", "write -consul-addr"},
		{[]string{"-consul=consul.service.consul:8500"}, "consul.service.consul:8500", "write -consul-addr"},
		{[]string{"-consul=old:8500", "-consul-addr", "new:8500"}, "new:8500", "-consul is ignored"},
	} {
		cfg, err := loadFlags(t, `consul { address = "file:8500" }`, tc.args...)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		var warned []string
		for _, w := range cfg.Warnings {
			if w.Summary == "Deprecated flag" {
				warned = append(warned, w.Detail)
			}
		}
		if cfg.Consul.Address != tc.addr || len(warned) != 1 || !strings.Contains(warned[0], tc.warn) {
			t.Errorf("%q: address %q, warnings %q; want %q and one warning saying %q", tc.args, cfg.Consul.Address, warned, tc.addr, tc.warn)
		}
	}
}

// TestTemplateSettingDefaults: a template's error_fatal, else the file's
// template_error_fatal (drcon's default false), and -template-error-fatal
// over both, as in consul-template; err_on_failed_lookup likewise, with a
// template's own setting and -err-on-failed-lookup (drcon's additions).
func TestTemplateSettingDefaults(t *testing.T) {
	for _, set := range []struct {
		own, top, flag string
		get            func(*config.Template) bool
	}{
		{"error_fatal", "template_error_fatal", "-template-error-fatal", func(t *config.Template) bool { return t.ErrorFatal }},
		{"err_on_failed_lookup", "err_on_failed_lookup", "-err-on-failed-lookup", func(t *config.Template) bool { return t.ErrOnFailedLookup }},
	} {
		own := "template \"b\" {\n  contents = \"x\"\n  destination = \"$DIR/b.out\"\n  " + set.own + " = false\n}\n"
		top := set.top + " = true\n"
		for _, tc := range []struct {
			hcl  string
			args []string
			a, b bool // the setting of templates a (unset) and b (false)
		}{
			{own, nil, false, false},
			{top + own, nil, true, false},
			{own, []string{set.flag}, true, true},
			{top + own, []string{set.flag + "=false"}, false, false},
		} {
			cfg, err := loadFlags(t, tc.hcl, tc.args...)
			if err != nil {
				t.Fatalf("%q %q: %v", tc.hcl, tc.args, err)
			}
			got := map[string]bool{}
			for _, tmpl := range cfg.Templates {
				got[tmpl.Name] = set.get(tmpl)
			}
			if got["a"] != tc.a || got["b"] != tc.b {
				t.Errorf("%q %q: %s a=%t b=%t, want a=%t b=%t", tc.hcl, tc.args, set.own, got["a"], got["b"], tc.a, tc.b)
			}
		}
	}
}

// loadFlags loads the configuration file hcl (after a template job) with
// the command line args, as every subcommand does.
func loadFlags(t *testing.T, hcl string, args ...string) (*config.Config, error) {
	t.Helper()
	// The CONSUL_* environment is below the file and the flags, but a
	// variable the file does not set would show through.
	for _, v := range []string{"CONSUL_HTTP_ADDR", "CONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN_FILE", "CONSUL_TOKEN", "CONSUL_TOKEN_FILE", "CONSUL_HTTP_AUTH",
		"CONSUL_HTTP_SSL", "CONSUL_HTTP_SSL_VERIFY", "CONSUL_CACERT", "CONSUL_CAPATH", "CONSUL_CLIENT_CERT",
		"CONSUL_CLIENT_KEY", "CONSUL_TLS_SERVER_NAME", "CONSUL_NAMESPACE"} {
		t.Setenv(v, "")
	}
	dir := files(t, map[string]string{"drcon.hcl": "template \"a\" {\n  contents = \"x\"\n  destination = \"$DIR/a.out\"\n}\n" + hcl})
	fs := newFlagSet("drcon", io.Discard)
	var c common
	c.register(fs)
	var stderr bytes.Buffer
	if code, ok := c.parse(fs, append([]string{"-config", filepath.Join(dir, "drcon.hcl")}, args...), &stderr); !ok {
		t.Fatalf("parse %q: exit %d: %s", args, code, stderr.String())
	}
	return c.load()
}

// TestOverrideFlags: each of consul-template's flags that drcon takes
// reaches the configuration and wins over the file.
func TestOverrideFlags(t *testing.T) {
	defaults, err := loadFlags(t, "")
	if err != nil {
		t.Fatal(err)
	}
	consul := func(c *config.Config) any { return c.Consul }
	tlsOf := func(c *config.Config) any { return c.Consul.TLS }
	retry := func(c *config.Config) any { return c.Consul.Retry }
	token := func(c *config.Config) any { return [2]string{c.Consul.Token, c.Consul.TokenFile} }
	retryOf := func(attempts int, backoff time.Duration) config.Retry {
		return config.Retry{Attempts: attempts, Backoff: backoff, MaxBackoff: time.Minute}
	}
	tests := []struct {
		name string
		file string
		args []string
		got  func(*config.Config) any
		want any
	}{
		{"token file over file token", `consul { token = "file" }`, []string{"-consul-token-file", "/flag/token"},
			token, [2]string{"", "/flag/token"}},
		{"token file over file token file", `consul { token_file = "/file/token" }`, []string{"-consul-token-file=/flag/token"},
			token, [2]string{"", "/flag/token"}},
		{"token file wins over token, as in consul/api", "", []string{"-consul-token", "t", "-consul-token-file", "/flag/token"},
			token, [2]string{"", "/flag/token"}},
		{"SIGNULL turns the kill and reload signals off, as \"\" in a file", "kill_signal = \"SIGTERM\"",
			[]string{"-kill-signal", "SIGNULL", "-reload-signal", "signull"},
			func(c *config.Config) any { return [2]config.Signal{c.KillSignal, c.ReloadSignal} }, [2]config.Signal{}},
		{"auth over file", "consul {\n  auth { username = \"file\" }\n}", []string{"-consul-auth", "user:pa:ss"},
			func(c *config.Config) any { return c.Consul.Auth }, config.Auth{Enabled: true, Username: "user", Password: "pa:ss"}},
		{"auth without password", "", []string{"-consul-auth=user"},
			func(c *config.Config) any { return c.Consul.Auth }, config.Auth{Enabled: true, Username: "user"}},
		{"ssl over file", "consul {\n  tls { enabled = false }\n}", []string{"-consul-ssl"},
			tlsOf, config.TLS{Enabled: true}},
		{"ssl=true", "", []string{"-consul-ssl=true"}, tlsOf, config.TLS{Enabled: true}},
		{"ssl=false over file", "consul {\n  tls { enabled = true }\n}", []string{"-consul-ssl=false"},
			tlsOf, config.TLS{}},
		{"ssl files over file", "consul {\n  tls { ca_file = \"/file/ca.pem\" }\n}",
			[]string{"-consul-ssl-ca-cert", "/ca.pem", "-consul-ssl-ca-path", "/ca.d", "-consul-ssl-cert", "/cert.pem",
				"-consul-ssl-key", "/key.pem", "-consul-ssl-server-name", "consul.example"},
			tlsOf, config.TLS{Enabled: true, CAFile: "/ca.pem", CAPath: "/ca.d", CertFile: "/cert.pem", KeyFile: "/key.pem", ServerName: "consul.example"}},
		{"an ssl flag turns ssl on", "", []string{"-consul-ssl-cert", "/cert.pem"},
			tlsOf, config.TLS{Enabled: true, CertFile: "/cert.pem", KeyFile: "/cert.pem"}}, // a file of both
		{"unless ssl=false", "", []string{"-consul-ssl-cert", "/cert.pem", "-consul-ssl=false"},
			tlsOf, config.TLS{CertFile: "/cert.pem", KeyFile: "/cert.pem"}},
		{"ssl flags under the file's enabled = false", "consul {\n  ssl { enabled = false }\n}", []string{"-consul-ssl-ca-cert", "/ca.pem"},
			tlsOf, config.TLS{CAFile: "/ca.pem"}},
		{"empty ssl strings", "consul {\n  ssl {\n    cert = \"\"\n    ca_cert = \"\"\n  }\n}", nil,
			tlsOf, config.TLS{}},
		{"cert without key", "consul {\n  ssl { cert = \"/both.pem\" }\n}", nil,
			tlsOf, config.TLS{Enabled: true, CertFile: "/both.pem", KeyFile: "/both.pem"}},
		{"ssl-verify=false", "", []string{"-consul-ssl-verify=false"},
			tlsOf, config.TLS{Enabled: true, InsecureSkipVerify: true}},
		{"ssl-verify over file", "consul {\n  tls { insecure_skip_verify = true }\n}", []string{"-consul-ssl-verify"},
			tlsOf, config.TLS{Enabled: true}},
		{"dedup", "", []string{"-dedup"}, func(c *config.Config) any { return c.Dedup.Enabled }, true},
		{"dedup=false over file", `dedup { enabled = true }`, []string{"-dedup=false"},
			func(c *config.Config) any { return c.Dedup.Enabled }, false},
		{"retry=false over file", "consul {\n  retry { attempts = 5 }\n}", []string{"-consul-retry=false"},
			retry, retryOf(1, 250*time.Millisecond)},
		{"retry=false over attempts flag", "", []string{"-consul-retry=false", "-consul-retry-attempts", "5"},
			retry, retryOf(1, 250*time.Millisecond)},
		{"retry over file", "consul {\n  retry { enabled = false }\n}", []string{"-consul-retry"},
			retry, defaults.Consul.Retry},
		{"attempts flag under the file's enabled = false", "consul {\n  retry { enabled = false }\n}", []string{"-consul-retry-attempts=3"},
			retry, retryOf(1, 250*time.Millisecond)},
		{"retry with attempts", "consul {\n  retry { enabled = false }\n}", []string{"-consul-retry", "-consul-retry-attempts=3"},
			retry, retryOf(3, 250*time.Millisecond)},
		{"retry keeps the file's attempts", "consul {\n  retry { attempts = 5 }\n}", []string{"-consul-retry=true"},
			retry, retryOf(5, 250*time.Millisecond)},
		{"negative attempts: never give up", "consul {\n  retry { attempts = -1 }\n}", nil,
			retry, retryOf(0, 250*time.Millisecond)},
		{"negative attempts flag", "", []string{"-consul-retry-attempts", "-1"},
			retry, retryOf(0, 250*time.Millisecond)},
		{"old -retry over file", "consul {\n  retry { backoff = \"1s\" }\n}", []string{"-retry", "3s"},
			retry, retryOf(12, 3*time.Second)},
		{"consul-retry-backoff over -retry", "", []string{"-consul-retry-backoff", "4s", "-retry", "3s"},
			retry, retryOf(12, 4*time.Second)},
		{"delimiters over file", "default_delimiters {\n  left = \"<<\"\n  right = \">>\"\n}", []string{"-default-left-delimiter", "[["},
			func(c *config.Config) any {
				return [2]string{c.Templates[0].LeftDelimiter, c.Templates[0].RightDelimiter}
			}, [2]string{"[[", ">>"}},
		{"right only", "", []string{"-default-right-delimiter=]]"},
			func(c *config.Config) any {
				return [2]string{c.Templates[0].LeftDelimiter, c.Templates[0].RightDelimiter}
			}, [2]string{"", "]]"}},
		{"exec flags over file", "exec {\n  command = \"nginx\"\n  reload_signal = \"SIGHUP\"\n  env { custom = [\"A=1\"] }\n}",
			[]string{"-exec", "haproxy -f /etc/haproxy.cfg", "-exec-kill-signal", "quit", "-exec-kill-timeout", "5s",
				"-exec-reload-signal", "SIGNULL", "-exec-splay", "1s", "-exec-env-pristine", "-exec-env-custom", "B=2",
				"-exec-env-allowlist", "PATH", "-exec-env-denylist", "SECRET_*"},
			func(c *config.Config) any { return c.Exec }, config.Exec{
				Command:    config.Command{Shell: "haproxy -f /etc/haproxy.cfg"},
				Env:        config.CommandEnv{Pristine: true, Custom: []string{"A=1", "B=2"}, Allowlist: []string{"PATH"}, Denylist: []string{"SECRET_*"}},
				KillSignal: config.Signal{Name: "SIGQUIT", Signal: syscall.SIGQUIT}, KillTimeout: 5 * time.Second, Splay: time.Second}},
		{"exec defaults", "", []string{"-exec", "app"},
			func(c *config.Config) any { return c.Exec }, config.Exec{Command: config.Command{Argv: []string{"app"}},
				KillSignal: config.Signal{Name: "SIGINT", Signal: syscall.SIGINT}, KillTimeout: 30 * time.Second}},
		{"syslog flags over file", "syslog {\n  facility = \"LOCAL1\"\n}", []string{"-syslog-facility", "daemon", "-syslog-name", "ct"},
			func(c *config.Config) any { return c.Syslog }, config.Syslog{Enabled: true, Facility: "DAEMON", Name: "ct"}},
		{"-syslog=false over file", "syslog {\n  facility = \"LOCAL1\"\n}", []string{"-syslog=false"},
			func(c *config.Config) any { return c.Syslog }, config.Syslog{Facility: "LOCAL1", Name: "drcon"}},
		{"log file flags over file", "log_file {\n  path = \"/file.log\"\n  log_rotate_max_files = 3\n}",
			[]string{"-log-file", "/flag/", "-log-rotate-bytes", "1000", "-log-rotate-duration", "1h", "-log-rotate-max-files", "-1"},
			func(c *config.Config) any { return c.LogFile },
			config.LogFile{Path: "/flag/", RotateBytes: 1000, RotateDuration: time.Hour, RotateMaxFiles: -1}},
		{"nothing given", `consul { token = "file" }`, nil,
			consul, config.Consul{Token: "file", Retry: defaults.Consul.Retry}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadFlags(t, tt.file, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%q over %q:\n got %+v\nwant %+v", tt.args, tt.file, got, tt.want)
			}
		})
	}
}

// TestRefusedFlags: every consul-template flag that drcon refuses, in each
// form and on each subcommand, prints its reason on one line and exits 2.
func TestRefusedFlags(t *testing.T) {
	reasons := map[string]string{
		"vault-token": "Vault Agent",
		"parse-only":  "drcon validate",
	}
	for name := range refusedFlags {
		for _, sub := range subcommands {
			for _, form := range [][]string{{"-" + name}, {"-" + name + "=x"}, {"-" + name, "x"}, {"-" + name + "=false"}} {
				args := append(append(append([]string{}, sub...), "-config", "none.hcl"), form...)
				t.Run(strings.Join(args, " "), func(t *testing.T) {
					code, _, stderr := drcon(args...)
					want := "drcon: -" + name + " is not supported. "
					if code != exitUsage || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 ||
						!strings.Contains(stderr, reasons[name]) {
						t.Fatalf("exit %d, want %d, and one line starting %q and saying %q:\n%s", code, exitUsage, want, reasons[name], stderr)
					}
				})
			}
		}
	}
}

// TestBadFlags: a flag drcon does not know, or a bad value, is a usage
// error (2) on every subcommand, with a message naming the flag and no
// page of usage.
func TestBadFlags(t *testing.T) {
	dir := files(t, map[string]string{
		"good.hcl": "template \"a\" {\n  contents = \"x\"\n  destination = \"$DIR/a.out\"\n}\n",
		"bad.hcl":  "log_level = \"loud\"\n",
	})
	good, bad := filepath.Join(dir, "good.hcl"), filepath.Join(dir, "bad.hcl")
	tests := []struct {
		args   []string
		stderr []string
	}{
		{[]string{"-bogus"}, []string{"flag provided but not defined: -bogus", "-h for the flags"}},
		{[]string{"-err-on-failed-lookup=sometimes"}, []string{`invalid boolean value "sometimes" for -err-on-failed-lookup`}},
		{[]string{"-dedup=maybe"}, []string{`invalid boolean value "maybe" for -dedup`, "-h for the flags"}},
		{[]string{"-consul-ssl=2"}, []string{`invalid boolean value "2" for -consul-ssl`}},
		{[]string{"-consul-addr"}, []string{"flag needs an argument: -consul-addr"}},
		{[]string{"-wait", "bogus"}, []string{"Invalid -wait flag", `"bogus" is not a duration`}},
		{[]string{"-max-stale", "5"}, []string{"Invalid -max-stale flag", `"5" has no unit`}},
		{[]string{"-kill-signal", "SIGFOO"}, []string{"Invalid -kill-signal flag", "SIGFOO"}},
		{[]string{"-reload-signal", "SIGKILL"}, []string{"Invalid -reload-signal flag"}},
		{[]string{"-log-level", "loud"}, []string{"Invalid -log-level flag"}},
		{[]string{"-consul-retry-attempts", "x"}, []string{"Invalid -consul-retry-attempts flag"}},
		{[]string{"-retry", "0s"}, []string{"Invalid -retry flag"}},
		{[]string{"-consul-retry-max-backoff", "x"}, []string{"Invalid -consul-retry-max-backoff flag"}},
		{[]string{"-template", "only-a-source"}, []string{"Invalid -template flag"}},
		{[]string{"-syslog-facility", "LOCAL9"}, []string{"Invalid -syslog-facility flag", "LOCAL9"}},
		{[]string{"-log-file", "x.log", "-log-rotate-bytes", "-1"}, []string{"Invalid -log-rotate-bytes flag"}},
		{[]string{"-log-file", "x.log", "-log-rotate-duration", "0s"}, []string{"Invalid -log-rotate-duration flag"}},
		{[]string{"-exec", "app", "-exec-kill-signal", "SIGFOO"}, []string{"Invalid -exec-kill-signal flag", "SIGFOO"}},
		{[]string{"-exec", "app", "-exec-kill-timeout", "0s"}, []string{"Invalid -exec-kill-timeout flag", "more than 0"}},
		{[]string{"-exec", "app", "-exec-env-custom", "NOVALUE"}, []string{"Invalid -exec-env-custom flag", "NAME=value"}},
		// A bad flag is a usage error whatever else is wrong in the files.
		{[]string{"-config", bad, "-wait", "bogus"}, []string{"Invalid -wait flag", "Invalid log_level"}},
	}
	for _, tt := range tests {
		for _, sub := range subcommands {
			args := append(append(append([]string{}, sub...), "-config", good), tt.args...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				code, _, stderr := drcon(args...)
				if code != exitUsage || strings.Contains(stderr, "Usage") {
					t.Fatalf("exit %d, want %d, without usage:\n%s", code, exitUsage, stderr)
				}
				for _, s := range tt.stderr {
					if !strings.Contains(stderr, s) {
						t.Errorf("stderr lacks %q:\n%s", s, stderr)
					}
				}
			})
		}
	}
}

// TestHelpHidesRefusedFlags: -h lists drcon's flags, consul-template's that
// it takes among them, and not the refused ones.
func TestHelpHidesRefusedFlags(t *testing.T) {
	for _, sub := range subcommands {
		code, _, stderr := drcon(append(append([]string{}, sub...), "-h")...)
		if code != exitOK || !strings.Contains(stderr, "-consul-ssl-verify") || strings.Contains(stderr, "-vault-addr") ||
			strings.Contains(stderr, "-consul-transport") {
			t.Errorf("%q -h: exit %d:\n%s", sub, code, stderr)
		}
	}
}
