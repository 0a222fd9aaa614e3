package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

const consulVersion = "1.14.11"

// ConsulBinary finds the Consul binary: $DRCON_CONSUL, the cache that
// integration/scripts/build-consul.sh fills, or PATH.
func ConsulBinary() (string, error) {
	return lookBinary("DRCON_CONSUL",
		[]string{filepath.Join(cacheDir(), "consul-"+consulVersion, "consul")}, "consul")
}

// Consul is a Consul dev agent of the test's own.
type Consul struct {
	t         testing.TB
	bin       string
	ports     [6]int
	node      string
	connLimit int
	proc      *Process
	Addr      string // host:port of the HTTP API
	DataDir   string
	// HTTPSAddr is host:port of the HTTPS API, served with TLS's
	// certificate, when WithHTTPS gave one.
	HTTPSAddr string
	TLS       TLSFiles
	httpsPort int
	noScripts bool
}

// ConsulOption adjusts a dev agent before it starts.
type ConsulOption func(*Consul)

// WithConnLimit sets limits.http_max_conns_per_client (default 4096).
func WithConnLimit(n int) ConsulOption { return func(c *Consul) { c.connLimit = n } }

// WithoutScriptChecks starts the agent with script checks disabled, as
// Consul's default is: it refuses a service that has one.
func WithoutScriptChecks() ConsulOption { return func(c *Consul) { c.noScripts = true } }

// WithHTTPS serves the HTTP API over TLS too, on a port of its own
// (HTTPSAddr), with a certificate for 127.0.0.1 signed by a test CA (TLS).
func WithHTTPS() ConsulOption {
	return func(c *Consul) {
		c.TLS = NewTLSFiles(c.t)
		c.httpsPort = FreePort(c.t)
		c.HTTPSAddr = "127.0.0.1:" + strconv.Itoa(c.httpsPort)
	}
}

// StartConsul starts a dev agent on free loopback ports and waits until it
// is ready (see waitReady).
func StartConsul(t testing.TB, opts ...ConsulOption) *Consul {
	t.Helper()
	bin, err := ConsulBinary()
	if err != nil {
		Missing(t, "consul", "run integration/scripts/build-consul.sh (builds v"+consulVersion+" from the Go module proxy)", err)
	}
	c := &Consul{t: t, bin: bin, node: "drcon-test", DataDir: t.TempDir(), connLimit: 4096}
	for i := range c.ports {
		c.ports[i] = FreePort(t)
	}
	for _, o := range opts {
		o(c)
	}
	c.Addr = "127.0.0.1:" + strconv.Itoa(c.ports[0])
	// A port that was free when picked may be taken by the time the agent
	// binds it (tests run in parallel); pick new ones and try again.
	for attempt := 1; ; attempt++ {
		err := c.start()
		if err == nil {
			return c
		}
		if attempt == 3 {
			t.Fatalf("consul dev agent: %v", err)
		}
		for i := range c.ports {
			c.ports[i] = FreePort(t)
		}
		c.Addr = "127.0.0.1:" + strconv.Itoa(c.ports[0])
	}
}

// Start (re)starts the agent on the same ports; a dev agent starts empty.
func (c *Consul) Start() {
	c.t.Helper()
	if err := c.start(); err != nil {
		c.t.Fatalf("consul dev agent: %v", err)
	}
}

func (c *Consul) start() error {
	// grpc_tls defaults to the fixed port 8503, which would make two dev
	// agents on one machine collide; it gets a free port of its own, since
	// a server without it refuses to create peering tokens (Peer).
	// Plaintext gRPC (Envoy's xDS) is off: no test uses it.
	ports := "grpc_tls = " + strconv.Itoa(c.ports[5])
	tls := ""
	if c.httpsPort != 0 {
		ports += "\nhttps = " + strconv.Itoa(c.httpsPort)
		tls = fmt.Sprintf("tls { defaults {\n  ca_file = %q\n  cert_file = %q\n  key_file = %q\n} }\n",
			c.TLS.CAFile, c.TLS.CertFile, c.TLS.KeyFile)
	}
	hcl := `limits { http_max_conns_per_client = ` + strconv.Itoa(c.connLimit) + ` }
ports {
` + ports + `
}
` + tls + `enable_script_checks = ` + strconv.FormatBool(!c.noScripts)
	cmd := exec.Command(c.bin, "agent", "-dev", "-node", c.node,
		"-client", "127.0.0.1", "-bind", "127.0.0.1",
		"-http-port", strconv.Itoa(c.ports[0]), "-dns-port", strconv.Itoa(c.ports[1]),
		"-server-port", strconv.Itoa(c.ports[2]), "-serf-lan-port", strconv.Itoa(c.ports[3]),
		"-serf-wan-port", strconv.Itoa(c.ports[4]), "-grpc-port", "-1",
		"-hcl", hcl)
	c.proc = Start(c.t, "consul", cmd)
	if err := c.waitReady(30 * time.Second); err != nil {
		c.proc.Kill()
		return fmt.Errorf("on %s: %v\n%s", c.Addr, err, c.proc.Output())
	}
	return nil
}

// waitReady waits until the agent has a leader and the leader has written
// its own node's health and the "consul" service: those writes come after
// the election, and a test that starts sooner sees them move the indexes of
// its first blocking queries.
func (c *Consul) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := http.Client{Timeout: time.Second}
	get := func(path string) (string, error) {
		resp, err := client.Get("http://" + c.Addr + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		return strings.TrimSpace(string(b)), err
	}
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-c.proc.Done():
			return fmt.Errorf("exited")
		default:
		}
		if leader, err := get("/v1/status/leader"); err != nil {
			last = err
		} else if strings.Trim(leader, `"`) == "" {
			last = fmt.Errorf("no leader yet")
		} else if own, err := get("/v1/health/service/consul?passing=1"); err != nil {
			last = err
		} else if own == "[]" || own == "" {
			last = fmt.Errorf("the server's own health is not written yet")
		} else {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %v", timeout, last)
}

// Stop stops the agent gracefully.
func (c *Consul) Stop() { c.proc.Stop() }

// Restart stops the agent and starts a fresh one (a dev agent forgets all
// state) on the same ports.
func (c *Consul) Restart() {
	c.t.Helper()
	c.Stop()
	c.Start()
}

// Client is a consul/api client for the agent.
func (c *Consul) Client() *api.Client {
	c.t.Helper()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = c.Addr
	cl, err := api.NewClient(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	return cl
}

// PutKV writes a key and fails the test on error.
func (c *Consul) PutKV(key, value string) {
	c.t.Helper()
	if _, err := c.Client().KV().Put(&api.KVPair{Key: key, Value: []byte(value)}, nil); err != nil {
		c.t.Fatalf("put %s: %v", key, err)
	}
}

// Peer creates a cluster peering named name by generating a peering token
// for it: the peering exists, in state PENDING, until a peer uses the token.
// A new agent refuses until its Connect CA is ready, so Peer retries.
func (c *Consul) Peer(name string, meta map[string]string) {
	c.t.Helper()
	req := api.PeeringGenerateTokenRequest{PeerName: name, Meta: meta}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, _, err := c.Client().Peerings().GenerateToken(context.Background(), req, nil)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("peering %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Register registers a service on the agent and fails the test on error.
func (c *Consul) Register(s *api.AgentServiceRegistration) {
	c.t.Helper()
	if err := c.Client().Agent().ServiceRegister(s); err != nil {
		c.t.Fatalf("register %s: %v", s.ID, err)
	}
}

// WaitFor polls cond every 20ms until it is true or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if cond() {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
