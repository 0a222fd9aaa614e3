package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrecedence checks environment < file < flag for every setting that
// all three can give.
func TestPrecedence(t *testing.T) {
	env := fakeEnv(
		"CONSUL_HTTP_ADDR", "env:8500",
		"CONSUL_HTTP_TOKEN", "env-token",
		"CONSUL_HTTP_TOKEN_FILE", "/env/token",
		"CONSUL_NAMESPACE", "env-ns",
		"CONSUL_HTTP_AUTH", "env-user:env:pass",
		"CONSUL_HTTP_SSL", "true",
		"CONSUL_HTTP_SSL_VERIFY", "false",
		"CONSUL_CACERT", "/env/ca.pem",
		"CONSUL_CAPATH", "/env/ca.d",
		"CONSUL_CLIENT_CERT", "/env/cert.pem",
		"CONSUL_CLIENT_KEY", "/env/key.pem",
		"CONSUL_TLS_SERVER_NAME", "env.consul",
	)
	envOnly := mustLoad(t, []string{writeFiles(t, map[string]string{"a.hcl": aJob})}, Overrides{Getenv: env})
	wantEnv := Consul{
		Address: "env:8500", Token: "env-token", TokenFile: "/env/token", Namespace: "env-ns",
		TLS: TLS{Enabled: true, CAFile: "/env/ca.pem", CAPath: "/env/ca.d", CertFile: "/env/cert.pem",
			KeyFile: "/env/key.pem", ServerName: "env.consul", InsecureSkipVerify: true},
		Retry: Retry{Attempts: 12, Backoff: 250 * time.Millisecond, MaxBackoff: time.Minute},
		Auth:  Auth{Enabled: true, Username: "env-user", Password: "env:pass"},
	}
	if !reflect.DeepEqual(envOnly.Consul, wantEnv) {
		t.Errorf("environment only:\n got %+v\nwant %+v", envOnly.Consul, wantEnv)
	}

	file := aJob + `
consul {
  address   = "file:8500"
  token     = "file-token"
  namespace = "file-ns"
  tls {
    enabled  = false
    ca_file  = "/file/ca.pem"
  }
  auth {
    username = "file-user"
  }
}
log_level     = "debug"
kill_signal   = "SIGTERM"
reload_signal = "SIGUSR2"
max_stale     = "3s"
pid_file      = "/file.pid"
wait          = "2s"
`
	dir := writeFiles(t, map[string]string{"a.hcl": file})
	fromFile := mustLoad(t, []string{dir}, Overrides{Getenv: env})
	wantFile := Consul{
		Address: "file:8500", Token: "file-token", Namespace: "file-ns",
		TLS: TLS{Enabled: false, CAFile: "/file/ca.pem", CAPath: "/env/ca.d", CertFile: "/env/cert.pem",
			KeyFile: "/env/key.pem", ServerName: "env.consul", InsecureSkipVerify: true},
		Retry: wantEnv.Retry,
		Auth:  Auth{Enabled: true, Username: "file-user"},
	}
	if !reflect.DeepEqual(fromFile.Consul, wantFile) {
		t.Errorf("file over environment:\n got %+v\nwant %+v", fromFile.Consul, wantFile)
	}

	flags := Overrides{
		Getenv: env, ConsulAddr: "https://flag:8501", ConsulToken: "flag-token", LogLevel: "err",
		KillSignal: "quit", ReloadSignal: "SIGUSR1", MaxStale: "4s", PidFile: "/flag.pid", Wait: "5s:6s",
	}
	fromFlags := mustLoad(t, []string{dir}, flags)
	c := fromFlags
	if c.Consul.Address != "https://flag:8501" || c.Consul.Token != "flag-token" || c.Consul.TokenFile != "" || !c.Consul.TLS.Enabled {
		t.Errorf("flags over file: consul %+v", c.Consul)
	}
	got := []any{c.LogLevel, c.KillSignal, c.ReloadSignal, c.MaxStale, c.PidFile, c.Wait, c.Templates[0].Wait}
	want := []any{"error", Signal{"SIGQUIT", syscall.SIGQUIT}, Signal{"SIGUSR1", syscall.SIGUSR1},
		4 * time.Second, "/flag.pid", Wait{5 * time.Second, 6 * time.Second}, Wait{5 * time.Second, 6 * time.Second}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flags over file:\n got %v\nwant %v", got, want)
	}
	c = fromFile
	got = []any{c.LogLevel, c.KillSignal, c.ReloadSignal, c.MaxStale, c.PidFile, c.Wait}
	want = []any{"debug", Signal{"SIGTERM", syscall.SIGTERM}, Signal{"SIGUSR2", syscall.SIGUSR2},
		3 * time.Second, "/file.pid", Wait{2 * time.Second, 8 * time.Second}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file:\n got %v\nwant %v", got, want)
	}
}

// TestTokenFileOverEnvToken checks that a token file from the file clears a
// token from the environment, which consul/api would otherwise combine.
func TestTokenFileOverEnvToken(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.hcl": aJob + `consul { token_file = "/file/token" }`})
	c := mustLoad(t, []string{dir}, Overrides{Getenv: fakeEnv("CONSUL_HTTP_TOKEN", "env")})
	if c.Consul.Token != "" || c.Consul.TokenFile != "/file/token" {
		t.Errorf("consul = %+v", c.Consul)
	}
}

func TestDefaults(t *testing.T) {
	c := mustLoad(t, []string{"testdata/good/minimal.hcl"}, Overrides{})
	tm := c.Templates[0]
	got := []any{c.LogLevel, c.LogFormat, c.KillSignal.Name, c.ReloadSignal.Name, c.MaxStale, c.BlockQueryWait,
		c.Wait, c.Status.Address, c.Consul, c.Dedup,
		tm.CreateDestDirs, tm.Atomic, tm.Perms, tm.CommandTimeout, tm.OnCommandFailure, tm.Wait}
	want := []any{"info", "text", "SIGINT", "SIGHUP", 2 * time.Second, 60 * time.Second,
		Wait{}, "", Consul{Retry: Retry{Attempts: 12, Backoff: 250 * time.Millisecond, MaxBackoff: time.Minute}},
		Dedup{Prefix: "drcon/dedup/", TTL: 15 * time.Second},
		true, true, os.FileMode(0), 30 * time.Second, "log", Wait{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %v\nwant %v", got, want)
	}
	r := mustLoad(t, []string{"testdata/good/registrator.hcl"}, Overrides{}).Registrators[0]
	wantR := &Registrator{Name: "docker", DeclRange: r.DeclRange, DockerHost: "unix:///var/run/docker.sock",
		Cleanup: true, Deregister: "always", AddressFamily: "ipv4"}
	if !reflect.DeepEqual(r, wantR) {
		t.Errorf("registrator defaults:\n got %+v\nwant %+v", r, wantR)
	}
}

func TestDockerEnvironment(t *testing.T) {
	env := fakeEnv("DOCKER_HOST", "tcp://env:2376", "DOCKER_CERT_PATH", "/certs", "DOCKER_TLS_VERIFY", "1")
	r := mustLoad(t, []string{"testdata/good/registrator.hcl"}, Overrides{Getenv: env}).Registrators[0]
	want := DockerTLS{CAFile: "/certs/ca.pem", CertFile: "/certs/cert.pem", KeyFile: "/certs/key.pem", Verify: true}
	if r.DockerHost != "tcp://env:2376" || r.DockerTLS != want {
		t.Errorf("from environment: %q %+v", r.DockerHost, r.DockerTLS)
	}
	r = mustLoad(t, []string{"testdata/good/registrator.hcl"}, Overrides{Getenv: fakeEnv("DOCKER_TLS_VERIFY", "1", "HOME", "/home/u")}).Registrators[0]
	if r.DockerTLS.CAFile != "/home/u/.docker/ca.pem" {
		t.Errorf("DOCKER_TLS_VERIFY without DOCKER_CERT_PATH: %+v", r.DockerTLS)
	}
	dir := writeFiles(t, map[string]string{"a.hcl": `registrator "d" {
  docker_host = "unix:///file.sock"
  docker_tls {
    ca_file = "/file/ca.pem"
    verify  = false
  }
}`})
	r = mustLoad(t, []string{dir}, Overrides{Getenv: env}).Registrators[0]
	want = DockerTLS{CAFile: "/file/ca.pem", CertFile: "/certs/cert.pem", KeyFile: "/certs/key.pem", Verify: false}
	if r.DockerHost != "unix:///file.sock" || r.DockerTLS != want {
		t.Errorf("file over environment: %q %+v", r.DockerHost, r.DockerTLS)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		o    Overrides
		want string
	}{
		{Overrides{LogLevel: "loud"}, "Invalid -log-level flag"},
		{Overrides{KillSignal: "SIGKILL"}, "Invalid -kill-signal flag"},
		{Overrides{ReloadSignal: "nope"}, "Invalid -reload-signal flag"},
		{Overrides{MaxStale: "2"}, "Invalid -max-stale flag"},
		{Overrides{Wait: "5s:1s"}, "Invalid -wait flag"},
		{Overrides{RetryAttempts: "many"}, "Invalid -consul-retry-attempts flag"},
		{Overrides{RetryBackoff: "0s"}, "Invalid -consul-retry-backoff flag"},
		{Overrides{Templates: []string{"only-a-source"}}, "Invalid -template flag"},
	} {
		cerr, got := loadError(t, []string{"testdata/good/minimal.hcl"}, tc.o)
		if got != tc.want {
			t.Errorf("%+v: errors %q, want %q", tc.o, got, tc.want)
		}
		if !strings.Contains(cerr.Error(), "Error: "+tc.want) {
			t.Errorf("%+v: Error() = %s", tc.o, cerr.Error())
		}
	}
}

// TestFlagTemplateMissing: a -template source that cannot be read is a
// template error (exit 3), as when a file names it, not a bad flag (2).
func TestFlagTemplateMissing(t *testing.T) {
	cerr, got := loadError(t, []string{"testdata/good/minimal.hcl"}, Overrides{Templates: []string{"missing.tmpl:/tmp/out"}})
	if got != "Cannot read template source" || BadFlag(cerr) || !strings.Contains(cerr.Error(), `-template "missing.tmpl:/tmp/out"`) {
		t.Errorf("errors %q (bad flag: %v): %s", got, BadFlag(cerr), cerr.Error())
	}
}

// consul-template's -consul-retry-* flags win over consul { retry {} }.
func TestRetryFlags(t *testing.T) {
	c := mustLoad(t, []string{"testdata/good/minimal.hcl"},
		Overrides{RetryAttempts: "2", RetryBackoff: "2m", RetryMaxBackoff: "10s"})
	// max_backoff caps every wait, the first too, as in consul-template.
	if r := c.Consul.Retry; r.Attempts != 2 || r.Backoff != 10*time.Second || r.MaxBackoff != 10*time.Second {
		t.Errorf("retry %+v", r)
	}
}

func TestBadEnvironmentIsIgnored(t *testing.T) {
	c := mustLoad(t, []string{"testdata/good/minimal.hcl"}, Overrides{Getenv: fakeEnv("CONSUL_HTTP_SSL", "maybe")})
	if c.Consul.TLS.Enabled || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Detail, "CONSUL_HTTP_SSL") {
		t.Errorf("tls %+v, warnings %v", c.Consul.TLS, c.Warnings)
	}
}

// TestFlagTemplates checks consul-template's -template usage, alone and
// after configuration files.
func TestFlagTemplates(t *testing.T) {
	dir := writeFiles(t, map[string]string{"in.tmpl": "{{ key \"k\" }}"})
	src := filepath.Join(dir, "in.tmpl")
	c := mustLoad(t, nil, Overrides{Templates: []string{
		src + ":/tmp/out-1",
		src + ":/tmp/out-2:nginx -s reload && echo a:b",
	}, Wait: "1s"})
	if len(c.Templates) != 2 {
		t.Fatalf("templates = %d", len(c.Templates))
	}
	t1, t2 := c.Templates[0], c.Templates[1]
	if t1.Name != "/tmp/out-1" || t1.Text != `{{ key "k" }}` || !t1.Command.Empty() || t1.Wait.Min != time.Second || !t1.Atomic {
		t.Errorf("first: %+v", t1)
	}
	if t2.Command.Shell != "nginx -s reload && echo a:b" {
		t.Errorf("second command %q", t2.Command.Shell)
	}
	_, got := loadError(t, []string{"testdata/good/minimal.hcl"}, Overrides{Templates: []string{src + ":/tmp/drcon-hello.txt"}})
	if got != "Duplicate destination" {
		t.Errorf("flag template over a file's destination: %q", got)
	}
	_, got = loadError(t, nil, Overrides{})
	if got != "No configuration" {
		t.Errorf("nothing given: %q", got)
	}
}

// TestConsulTemplateEnvironment: consul-template's own variables, read as it
// reads them: CONSUL_TOKEN before CONSUL_HTTP_TOKEN, and the log level from
// CT_LOG, CONSUL_TEMPLATE_LOG or CONSUL_TEMPLATE_LOG_LEVEL unless the file
// sets log_level.
func TestConsulTemplateEnvironment(t *testing.T) {
	c := mustLoad(t, []string{"testdata/good/minimal.hcl"}, Overrides{Getenv: fakeEnv(
		"CONSUL_TOKEN", "ct-token", "CONSUL_HTTP_TOKEN", "http-token",
		"CONSUL_TOKEN_FILE", "/ct/token", "CONSUL_HTTP_TOKEN_FILE", "/http/token",
		"CONSUL_TEMPLATE_LOG_LEVEL", "err")})
	if c.Consul.Token != "ct-token" || c.Consul.TokenFile != "/ct/token" || c.LogLevel != "error" {
		t.Errorf("token %q, token file %q, log level %q", c.Consul.Token, c.Consul.TokenFile, c.LogLevel)
	}
	c = mustLoad(t, []string{"testdata/good/minimal.hcl"}, Overrides{Getenv: fakeEnv(
		"CONSUL_HTTP_TOKEN", "http-token", "CT_LOG", "debug", "CONSUL_TEMPLATE_LOG", "warn")})
	if c.Consul.Token != "http-token" || c.LogLevel != "debug" {
		t.Errorf("token %q, log level %q", c.Consul.Token, c.LogLevel)
	}
	dir := writeFiles(t, map[string]string{"a.hcl": aJob + `log_level = "warn"`})
	if c := mustLoad(t, []string{dir}, Overrides{Getenv: fakeEnv("CT_LOG", "debug")}); c.LogLevel != "warn" {
		t.Errorf("the file's log_level lost to the environment: %q", c.LogLevel)
	}
	c = mustLoad(t, []string{"testdata/good/minimal.hcl"}, Overrides{Getenv: fakeEnv("CT_LOG", "loud")})
	if c.LogLevel != "info" || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].Detail, `"loud"`) {
		t.Errorf("log level %q, warnings %v", c.LogLevel, c.Warnings)
	}
}

// TestBlockQueryWaitCapped: consul-template takes a wait beyond Consul's
// 10 minutes (Consul caps it); drcon caps it with a warning.
func TestBlockQueryWaitCapped(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.hcl": aJob + `block_query_wait = "15m"`})
	c := mustLoad(t, []string{dir}, Overrides{})
	if c.BlockQueryWait != 10*time.Minute || len(c.Warnings) != 1 || c.Warnings[0].Summary != "Capped block_query_wait" {
		t.Errorf("wait %s, warnings %v", c.BlockQueryWait, c.Warnings)
	}
}

// TestSSLCertFlagAlone: -consul-ssl-cert without -consul-ssl-key names a
// file holding both, as a cert without a key does in a file; it replaces a
// file's cert-and-key file, not a key the file gave on its own.
func TestSSLCertFlagAlone(t *testing.T) {
	for _, tc := range []struct{ file, wantKey string }{
		{"", "/flag/both.pem"},
		{`consul {
  ssl {
    cert = "/file/both.pem"
  }
}`, "/flag/both.pem"},
		{`consul {
  ssl {
    cert = "/file/cert.pem"
    key  = "/file/key.pem"
  }
}`, "/file/key.pem"},
	} {
		dir := writeFiles(t, map[string]string{"a.hcl": aJob + tc.file})
		c := mustLoad(t, []string{dir}, Overrides{ConsulSSLCert: "/flag/both.pem"})
		if tls := c.Consul.TLS; tls.CertFile != "/flag/both.pem" || tls.KeyFile != tc.wantKey || !tls.Enabled {
			t.Errorf("file %q: tls %+v, want key %s", tc.file, tls, tc.wantKey)
		}
	}
}
