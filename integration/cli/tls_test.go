package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestConsulOverTLS: consul-template's ssl settings, in a file and as
// flags, given the same way to consul-template v0.41.1 and to drcon against
// a Consul that serves HTTPS with a test CA: both render the same bytes.
// -consul-ssl-cert alone names a file holding the key too, in both.
// ssl.ca_cert_bytes, which consul-template parses and does not pass to its
// Consul client, works in drcon.
func TestConsulOverTLS(t *testing.T) {
	c := testenv.StartConsul(t, testenv.WithHTTPS())
	c.PutKV("app/a", "over tls")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.ctmpl": `a={{ key "app/a" }}`})
	// A client certificate and its key in one file (the server's pair of
	// the test CA: Consul does not ask for one, the client loads it).
	both := filepath.Join(dir, "both.pem")
	writeFiles(t, dir, map[string]string{"both.pem": readAbs(t, c.TLS.CertFile) + readAbs(t, c.TLS.KeyFile)})
	ssl := func(body string) string {
		return fmt.Sprintf("consul {\n  address = %q\n  ssl {\n%s\n  }\n}\n", c.HTTPSAddr, body)
	}
	cases := []struct {
		name   string
		config string // "" for none
		flags  []string
		ctToo  bool
	}{
		{"ca_cert", ssl(fmt.Sprintf("    ca_cert = %q", c.TLS.CAFile)), nil, true},
		{"empty strings are no settings", ssl(fmt.Sprintf("    ca_cert = %q\n    cert = \"\"\n    key = \"\"", c.TLS.CAFile)), nil, true},
		{"verify = false", ssl("    verify = false"), nil, true},
		{"flags", "", []string{"-consul-addr", c.HTTPSAddr, "-consul-ssl", "-consul-ssl-ca-cert", c.TLS.CAFile}, true},
		// Over plain HTTP: the flag leaves the file's enabled = false alone.
		{"flag under enabled = false", fmt.Sprintf("consul {\n  address = %q\n  ssl { enabled = false }\n}\n", c.Addr),
			[]string{"-consul-ssl-ca-cert", c.TLS.CAFile}, true},
		{"cert and key in one file, as a flag", "",
			[]string{"-consul-addr", c.HTTPSAddr, "-consul-ssl-ca-cert", c.TLS.CAFile, "-consul-ssl-cert", both}, true},
		{"ca_cert_bytes", ssl(fmt.Sprintf("    ca_cert_bytes = %q", c.TLS.CAPEM)), nil, false},
	}
	bins := map[string]string{"ct": testenv.ConsulTemplate(t), "drcon": testenv.Drcon(t)}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for name, bin := range bins {
				if name == "ct" && !tc.ctToo {
					continue
				}
				out := fmt.Sprintf("%s/%d.out", name, i)
				args := append([]string{"-once", "-template", "a.ctmpl:" + out}, tc.flags...)
				if tc.config != "" {
					cfg := filepath.Join(dir, fmt.Sprintf("%s-%d.hcl", name, i))
					writeFiles(t, dir, map[string]string{filepath.Base(cfg): tc.config})
					args = append(args, "-config", cfg)
				}
				expect(t, name, run(t, dir, bin, args...), 0)
				if got := read(t, dir, out); got != "a=over tls" {
					t.Errorf("%s rendered %q", name, got)
				}
			}
		})
	}
}

func readAbs(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
