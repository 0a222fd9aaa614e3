package register

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

// FuzzBuildServices gives real inspect results (testdata/build) arbitrary
// SERVICE_* settings, as labels and as environment variables, and an
// arbitrary exposed port: whatever a container says about itself must turn
// into services and warnings, never a panic, and every service must be one
// Consul can take (a name, an ID, a port).
func FuzzBuildServices(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "build", "*.inspect.json"))
	var inspects [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		inspects = append(inspects, b)
	}
	for _, seed := range [][3]string{
		{"SERVICE_NAME", "web", "80/tcp"},
		{"SERVICE_80_CHECK_HTTP", "/health", "80/tcp"},
		{"SERVICE_TAGS", "a,{{ .Name }},b", "8080/udp"},
		{"SERVICE_CHECK_TTL", "15s", "53/sctp"},
		{"SERVICE_CHECK_GRPC_USE_TLS", "yes", "9000"},
		{"SERVICE_443_IGNORE", "true", "443/tcp"},
		{"SERVICE_CHECK_INTERVAL", "-1s", "/tcp"},
		{"SERVICE_ID", "", "65536/tcp"},
		{"SERVICE_WEIGHTS", "{x", "0/tcp"},
	} {
		for i := range inspects {
			f.Add(uint8(i), seed[0], seed[1], seed[2])
		}
	}
	configs := []config.Registrator{
		{},
		{Internal: true, UseIPFromLabel: "SERVICE_NAME", Health: "docker"},
		{Explicit: true, AddressFamily: "ipv6", Tags: []string{"{{ .Config.Image }}", "t"}},
	}
	f.Fuzz(func(t *testing.T, pick uint8, key, value, port string) {
		var c, netc docker.Container
		if err := json.Unmarshal(inspects[int(pick)%len(inspects)], &c); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(inspects[(int(pick)+1)%len(inspects)], &netc); err != nil {
			t.Fatal(err)
		}
		if c.Config == nil {
			c.Config = &docker.Config{}
		}
		if c.Config.Labels == nil {
			c.Config.Labels = map[string]string{}
		}
		c.Config.Labels[key] = value
		c.Config.Env = append(c.Config.Env, key+"="+value)
		if c.Config.ExposedPorts == nil {
			c.Config.ExposedPorts = map[docker.Port]struct{}{}
		}
		c.Config.ExposedPorts[docker.Port(port)] = struct{}{}
		if c.NetworkSettings != nil && c.NetworkSettings.Ports != nil {
			c.NetworkSettings.Ports[docker.Port(port)] = []docker.PortBinding{{HostIP: value, HostPort: value}}
		}
		for _, cfg := range configs {
			s, err := newSettings(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			services, _ := buildServices(&c, &netc, s, testIdentity)
			for _, svc := range services {
				r := svc.Reg
				if r.Name == "" || r.ID == "" {
					t.Errorf("%s=%q port %q: service with no name or ID: %+v", key, value, port, r)
				}
				if r.Port < 0 || r.Port > 65535 {
					t.Errorf("%s=%q port %q: port %d", key, value, port, r.Port)
				}
			}
		}
	})
}
