package register

import (
	"testing"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

func TestNewSettings(t *testing.T) {
	bad := []config.Registrator{
		{HostIP: "not-an-ip"},
		{HostIP: "0.0.0.0"}, // Consul refuses it for a service
		{HostIP: "::"},
		{Deregister: "sometimes"},
		{Health: "consul"},
		{AddressFamily: "ipx"},
		// A tags template that does not parse fails for every container
		// alike: a mistake of the configuration (registrator exited).
		{Tags: []string{"web", "{{ broken"}},
	}
	for _, c := range bad {
		if _, err := newSettings(&c); err == nil {
			t.Errorf("newSettings(%+v) accepted", c)
		}
	}
	s, err := newSettings(&config.Registrator{Deregister: "on-success", Health: "docker", AddressFamily: "ipv6", Cleanup: true})
	if err != nil || !s.onSuccess || !s.health || !s.ipv6 || !s.cleanup {
		t.Errorf("newSettings = %+v, %v", s, err)
	}
}

func TestFilter(t *testing.T) {
	s := settings{filter: map[string]string{"team": "", "env": "prod"}}
	cases := []struct {
		labels map[string]string
		want   bool
	}{
		{map[string]string{"team": "a", "env": "prod"}, true},
		{map[string]string{"team": "", "env": "prod"}, true},
		{map[string]string{"env": "prod"}, false},
		{map[string]string{"team": "a", "env": "dev"}, false},
		{nil, false},
	}
	for _, c := range cases {
		if got := s.matches(c.labels); got != c.want {
			t.Errorf("matches(%v) = %v", c.labels, got)
		}
	}
	if !(settings{}).matches(nil) {
		t.Errorf("no filter should match everything")
	}
}

func TestPickBinding(t *testing.T) {
	bs := []docker.PortBinding{{HostIP: "::", HostPort: "8080"}, {HostIP: "0.0.0.0", HostPort: "8081"}, {HostIP: "0.0.0.0", HostPort: "8080"}, {HostPort: "bad"}}
	b, port, ok := pickBinding(bs, false)
	if !ok || b.HostIP != "0.0.0.0" || port != 8080 {
		t.Errorf("ipv4: %v %d %v", b, port, ok)
	}
	b, port, ok = pickBinding(bs, true)
	if !ok || b.HostIP != "::" || port != 8080 {
		t.Errorf("ipv6: %v %d %v", b, port, ok)
	}
	if _, _, ok := pickBinding([]docker.PortBinding{{HostIP: "0.0.0.0"}}, false); ok {
		t.Errorf("a binding without a host port is no binding")
	}
}

// TestLabelAddress: use_ip_from_label takes an IP address (without a CIDR
// suffix) or a DNS name, as registrator registered whatever the label held.
func TestLabelAddress(t *testing.T) {
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"10.1.2.3/24", "10.1.2.3", true},
		{"fd00::1", "fd00::1", true},
		{"svc1.example.com", "svc1.example.com", true},
		{"db-1", "db-1", true},
		{"10.0.0.300", "", false},
		{"no such host", "", false},
		{"-bad.example", "", false},
		{"a_b.example", "", false},
		{"", "", false},
		// Consul refuses the whole registration at an unspecified address.
		{"0.0.0.0", "", false},
		{"::/0", "", false},
	}
	for _, tt := range tests {
		got, ok := labelAddress(tt.raw)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("labelAddress(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}
