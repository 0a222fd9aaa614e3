package agent

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/config"
	consulfetch "github.com/drcon/drcon/template/consul"
)

// newConsulClient builds a client from the resolved configuration (the
// environment has already been folded in by config.Load, so nothing here
// reads it again). Its transport keeps one idle connection per blocking
// query, so that watching many dependencies does not churn connections
// (consul-template #830, #1086).
func newConsulClient(c config.Consul) (*api.Client, error) {
	client, _, err := newConsulAPI(c)
	return client, err
}

// newConsulAPI is newConsulClient that also returns the configuration as
// api.NewClient resolved it, for the fetcher's own health queries.
func newConsulAPI(c config.Consul) (*api.Client, *api.Config, error) {
	cfg := &api.Config{
		Address:    c.Address,
		Scheme:     "http",
		Datacenter: c.Datacenter,
		Token:      c.Token,
		TokenFile:  c.TokenFile,
		Namespace:  c.Namespace,
	}
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:8500"
	}
	if rest, ok := strings.CutPrefix(cfg.Address, "https://"); ok {
		cfg.Address, cfg.Scheme = rest, "https"
	} else if rest, ok := strings.CutPrefix(cfg.Address, "http://"); ok {
		cfg.Address = rest
	}
	if c.TLS.Enabled {
		cfg.Scheme = "https"
	}
	if c.Auth.Username != "" || c.Auth.Password != "" {
		cfg.HttpAuth = &api.HttpBasicAuth{Username: c.Auth.Username, Password: c.Auth.Password}
	}
	cfg.TLSConfig = api.TLSConfig{
		Address:            c.TLS.ServerName,
		CAFile:             c.TLS.CAFile,
		CAPath:             c.TLS.CAPath,
		CAPem:              []byte(c.TLS.CAPEM),
		CertFile:           c.TLS.CertFile,
		KeyFile:            c.TLS.KeyFile,
		InsecureSkipVerify: c.TLS.InsecureSkipVerify,
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   4096,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	if cfg.Scheme == "https" {
		tlsCfg, err := api.SetupTLSConfig(&cfg.TLSConfig)
		if err != nil {
			return nil, nil, fmt.Errorf("consul tls: %w", err)
		}
		tr.TLSClientConfig = tlsCfg
	}
	cfg.Transport = tr
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("consul client for %s: %w", cfg.Address, err)
	}
	return client, cfg, nil
}

// newFetcher answers the pool's queries from Consul; resolved is the
// client's configuration from newConsulAPI.
func newFetcher(client *api.Client, resolved *api.Config, c config.Consul) *consulfetch.Fetcher {
	return consulfetch.New(client, consulfetch.Options{UseCache: c.UseCache, Config: resolved})
}

// consulEnv is what template functions (env) and commands get to reach the
// same Consul, exactly as consul-template's runner builds it: the address,
// auth and token only when configured, the two TLS switches always, so that
// a template reading them renders the same bytes.
func consulEnv(c config.Consul) []string {
	var env []string
	if c.Address != "" {
		env = append(env, "CONSUL_HTTP_ADDR="+c.Address)
	}
	if c.Auth.Enabled {
		auth := c.Auth.Username
		if c.Auth.Password != "" {
			auth += ":" + c.Auth.Password
		}
		env = append(env, "CONSUL_HTTP_AUTH="+auth)
	}
	if c.Token != "" {
		env = append(env, "CONSUL_HTTP_TOKEN="+c.Token)
	}
	if c.TokenFile != "" {
		env = append(env, "CONSUL_HTTP_TOKEN_FILE="+c.TokenFile)
	}
	return append(env,
		"CONSUL_HTTP_SSL="+strconv.FormatBool(c.TLS.Enabled),
		"CONSUL_HTTP_SSL_VERIFY="+strconv.FormatBool(!c.TLS.InsecureSkipVerify))
}
