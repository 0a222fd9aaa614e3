package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// consul resolves the consul block over the CONSUL_* environment, which
// applies as in consul/api; the file wins over the environment.
func (l *loader) consul(b *rawConsul) Consul {
	c := Consul{Retry: Retry{Attempts: defaultRetryAttempts, Backoff: 250 * time.Millisecond, MaxBackoff: time.Minute}}
	l.consulEnv(&c)
	if b == nil {
		return c
	}
	l.str(b.Address, &c.Address)
	// consul/api lets a token file win over a token, so a token from the
	// file must also clear a token file from the environment (and the
	// other way round) for the file to win.
	if b.Token != nil || b.TokenFile != nil {
		c.Token, c.TokenFile = "", ""
	}
	l.str(b.Token, &c.Token)
	l.str(b.TokenFile, &c.TokenFile)
	l.str(b.Datacenter, &c.Datacenter)
	l.str(b.Namespace, &c.Namespace)
	l.boolean(b.UseCache, &c.UseCache)
	if b.TLS != nil {
		l.tls(b.TLS, &c.TLS)
	}
	if b.Retry != nil {
		l.retry(b.Retry, &c.Retry)
	}
	if b.Auth != nil {
		c.Auth = Auth{}
		l.str(b.Auth.Username, &c.Auth.Username)
		l.str(b.Auth.Password, &c.Auth.Password)
		c.Auth.Enabled = c.Auth.Username != "" || c.Auth.Password != ""
		// Consumers read the credentials, so disabled means none.
		if l.boolean(b.Auth.Enabled, &c.Auth.Enabled) && !c.Auth.Enabled {
			c.Auth = Auth{}
		}
	}
	return c
}

// tls applies a tls (or ssl) block: as in consul-template, a setting in it
// turns TLS on unless it says enabled = false; a path or name given as ""
// is no setting. A client certificate without a key is taken for a file
// holding both, as consul-template takes it.
func (l *loader) tls(b *rawTLS, t *TLS) {
	for _, f := range []struct {
		a   *hcl.Attribute
		dst *string
	}{{b.CAFile, &t.CAFile}, {b.CAPath, &t.CAPath}, {b.CertFile, &t.CertFile}, {b.KeyFile, &t.KeyFile}, {b.ServerName, &t.ServerName}} {
		if l.str(f.a, f.dst) && *f.dst != "" {
			t.Enabled = true
		}
	}
	if l.str(b.CACertBytes, &t.CAPEM) && t.CAPEM != "" {
		t.Enabled = true
	}
	if b.InsecureSkipVerify != nil || b.Verify != nil {
		t.Enabled = true
	}
	l.tlsEnabledSet = l.boolean(b.Enabled, &t.Enabled)
	switch {
	case t.KeyFile == "":
		t.KeyFile = t.CertFile
	case t.CertFile == "" && b.KeyFile != nil:
		l.warnAt(b.KeyFile.NameRange, "Client key without certificate", "%s is ignored without a client certificate, as in consul-template.", b.KeyFile.Name)
		t.KeyFile = ""
	}
	var verify bool
	if l.boolean(b.Verify, &verify) {
		t.InsecureSkipVerify = !verify
	}
	l.boolean(b.InsecureSkipVerify, &t.InsecureSkipVerify)
}

// retry applies a retry block. consul-template's enabled = false (never
// retry) becomes one attempt: the dependency is reported failed at its
// first failure.
func (l *loader) retry(b *rawRetry, r *Retry) {
	// A negative number of attempts is consul-template's "never give up"
	// too, drcon's 0.
	if l.integer(b.Attempts, &r.Attempts, -1<<20, 1<<20) {
		r.Attempts = max(r.Attempts, 0)
	}
	enabled := true
	if l.boolean(b.Enabled, &enabled) && !enabled {
		r.Attempts, l.retryOff = 1, true
	}
	if l.duration(b.Backoff, &r.Backoff) && r.Backoff == 0 {
		l.errorf(b.Backoff, "Invalid retry backoff", "backoff must be more than 0.")
	}
	if l.duration(b.MaxBackoff, &r.MaxBackoff) && r.MaxBackoff < r.Backoff {
		l.warnAt(b.MaxBackoff.NameRange, "Retry capped", "max_backoff (%s) is less than backoff (%s): every retry waits %s, as in consul-template.", r.MaxBackoff, r.Backoff, r.MaxBackoff)
	}
}

// consulEnv reads the CONSUL_* variables that consul/api reads, and
// consul-template's CONSUL_TOKEN and CONSUL_TOKEN_FILE, which come first
// there.
func (l *loader) consulEnv(c *Consul) {
	env := l.getenv
	c.Address = env("CONSUL_HTTP_ADDR")
	c.Token = l.firstEnv("CONSUL_TOKEN", "CONSUL_HTTP_TOKEN")
	c.TokenFile = l.firstEnv("CONSUL_TOKEN_FILE", "CONSUL_HTTP_TOKEN_FILE")
	c.Namespace = env("CONSUL_NAMESPACE")
	if a := env("CONSUL_HTTP_AUTH"); a != "" {
		user, pass, _ := strings.Cut(a, ":")
		c.Auth = Auth{Enabled: true, Username: user, Password: pass}
	}
	c.TLS.Enabled = l.envBool("CONSUL_HTTP_SSL", false)
	c.TLS.InsecureSkipVerify = !l.envBool("CONSUL_HTTP_SSL_VERIFY", true)
	c.TLS.CAFile = env("CONSUL_CACERT")
	c.TLS.CAPath = env("CONSUL_CAPATH")
	c.TLS.CertFile = env("CONSUL_CLIENT_CERT")
	c.TLS.KeyFile = env("CONSUL_CLIENT_KEY")
	c.TLS.ServerName = env("CONSUL_TLS_SERVER_NAME")
}

// firstEnv is the first of the named environment variables that is set
// and not empty, or "".
func (l *loader) firstEnv(names ...string) string {
	for _, n := range names {
		if v := l.getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// envBool reads a boolean environment variable; def when unset. A bad value
// is ignored with a warning, as consul/api does.
func (l *loader) envBool(name string, def bool) bool {
	s := l.getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		l.diags = append(l.diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Ignored environment variable",
			Detail:   fmt.Sprintf("%s=%q is not true or false; it is ignored.", name, s),
		})
		return def
	}
	return v
}
