package dedup

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// startACLConsul starts a dev agent that enforces ACLs (deny by default,
// management token "root"), which testenv's agents do not, and returns its
// address and a client that holds the management token.
func startACLConsul(t *testing.T) (string, *api.Client) {
	t.Helper()
	bin, err := testenv.ConsulBinary()
	if err != nil {
		testenv.Missing(t, "consul", "run integration/scripts/build-consul.sh", err)
	}
	var ports [6]int
	for i := range ports {
		ports[i] = testenv.FreePort(t)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	hcl := fmt.Sprintf(`acl {
  enabled        = true
  default_policy = "deny"
  tokens { initial_management = "root" }
}
ports { grpc_tls = %d }`, ports[5])
	cmd := exec.Command(bin, "agent", "-dev", "-node", "drcon-test", "-client", "127.0.0.1", "-bind", "127.0.0.1",
		"-http-port", fmt.Sprint(ports[0]), "-dns-port", fmt.Sprint(ports[1]), "-server-port", fmt.Sprint(ports[2]),
		"-serf-lan-port", fmt.Sprint(ports[3]), "-serf-wan-port", fmt.Sprint(ports[4]), "-grpc-port", "-1", "-hcl", hcl)
	proc := testenv.Start(t, "consul", cmd)
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token = addr, "root"
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, waitLimit, "the ACL-enforcing Consul agent taking writes", func() bool {
		select {
		case <-proc.Done():
			t.Fatalf("consul exited:\n%s", proc.Output())
		default:
		}
		_, err := c.KV().Put(&api.KVPair{Key: "ready", Value: []byte("1")}, nil)
		return err == nil
	})
	return addr, c
}

// TestWithoutWriteAccess: agents whose ACL token may not write the dedup
// prefix, create a session or read the prefix keep rendering from their own queries and
// say why in status. Once the token may write, one of them leads without a
// restart, although the lock stayed free all along and no change of it
// woke anyone.
func TestWithoutWriteAccess(t *testing.T) {
	addr, root := startACLConsul(t)
	const catalog = `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
agent_prefix "" { policy = "read" }
`
	const read = catalog + `key_prefix "" { policy = "read" }
`
	const session = `session_prefix "" { policy = "write" }
`
	acl := root.ACL()
	policy := func(name, rules string) *api.ACLPolicy {
		p, _, err := acl.PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	noKeyWrite := policy("no-key-write", read+session)
	noSession := policy("no-session", read)
	noPrefixRead := policy("no-prefix-read", catalog+session+`key_prefix "app/" { policy = "read" }
key_prefix "hosts/" { policy = "read" }`)
	token := func(p *api.ACLPolicy) string {
		tok, _, err := acl.TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok.SecretID
	}
	put := func(k, v string) {
		if _, err := root.KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("app/config", "v0")
	put("hosts/same", "host-same")
	if err := root.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "web-1", Name: "web", Address: "127.0.0.1", Port: 8001}); err != nil {
		t.Fatal(err)
	}

	f := &fleet{t: t}
	tokens := []string{token(noKeyWrite), token(noKeyWrite), token(noKeyWrite), token(noSession), token(noPrefixRead)}
	for i, tok := range tokens {
		m := newMember(t, fmt.Sprintf("drcon-%d", i), addr, "HOSTTAG=same")
		rewrite(t, filepath.Join(m.dir, "drcon.hcl"), fmt.Sprintf("consul { address = %q }", addr),
			fmt.Sprintf("consul {\n  address = %q\n  token = %q\n}", addr, tok))
		f.members = append(f.members, m)
	}
	for _, m := range f.members {
		m.start()
	}
	says := func(m *member, want ...string) {
		testenv.WaitFor(t, waitLimit, fmt.Sprintf("%s's status saying %q", m.name, want), func() bool {
			s := m.dedup()
			for _, w := range want {
				if !strings.Contains(s.Fallback, w) {
					return false
				}
			}
			return true
		})
	}
	for _, m := range f.members[:3] {
		says(m, "cannot take the lock", "key:write")
	}
	says(f.members[3], "cannot join", "session:write")
	says(f.members[4], "cannot read the group's keys", "key:read")
	f.same("web.out", "web: web-1@127.0.0.1:8001", waitLimit)
	put("app/config", "v1")
	f.same("web.out", "config=v1", waitLimit)

	// The lock stays free while they retry taking it, and say why once:
	// the status holds it until it changes.
	for _, m := range f.members[:3] {
		testenv.WaitFor(t, waitLimit, m.name+" retrying the free lock", func() bool {
			return strings.Contains(m.proc.Output(), `level=DEBUG msg="dedup: write drcon/dedup/`)
		})
		if n := strings.Count(m.proc.Output(), `level=WARN msg="dedup: write drcon/dedup/`); n != 1 {
			t.Errorf("%s warned %d times that it cannot take the lock, want once:\n%s", m.name, n, m.proc.Output())
		}
	}
	f.members[3].stop()
	f.members[4].stop()
	noKeyWrite.Rules += "\nkey_prefix \"drcon/dedup/\" { policy = \"write\" }"
	if _, _, err := acl.PolicyUpdate(noKeyWrite, nil); err != nil {
		t.Fatal(err)
	}
	f.settled(1, waitLimit)
	put("app/config", "v2")
	f.same("web.out", "config=v2", waitLimit)
}
