package register

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/drcon/drcon/config"
)

// settings are the parts of a registrator block that decide what gets
// registered, resolved and checked once so that the pure logic never has to
// interpret configuration strings.
type settings struct {
	hostIP      string // replaces the published binding's address
	internal    bool   // container address and port instead of the published ones
	network     string // network that gives the address in internal mode; "" chooses
	explicit    bool   // only ports with SERVICE_NAME or SERVICE_<port>_NAME
	ipFromLabel string // label whose value, when present, is the address
	tags        []string
	cleanup     bool // reconciles remove services of containers that are gone
	onSuccess   bool // keep containers that crashed registered (deregister = "on-success")
	health      bool // Docker HEALTHCHECK drives a TTL check (health = "docker")
	filter      map[string]string
	ipv6        bool
}

func newSettings(cfg *config.Registrator) (settings, error) {
	s := settings{
		hostIP:      cfg.HostIP,
		internal:    cfg.Internal,
		network:     cfg.Network,
		explicit:    cfg.Explicit,
		ipFromLabel: cfg.UseIPFromLabel,
		tags:        slices.Clone(cfg.Tags),
		cleanup:     cfg.Cleanup,
		filter:      cfg.Filter,
	}
	if s.hostIP != "" {
		switch ip := net.ParseIP(s.hostIP); {
		case ip == nil:
			return s, fmt.Errorf("host_ip %q is not an IP address", s.hostIP)
		case ip.IsUnspecified():
			return s, fmt.Errorf("host_ip %q: Consul refuses an unspecified address for a service", s.hostIP)
		}
	}
	for _, t := range s.tags {
		if !strings.Contains(t, "{{") {
			continue
		}
		// A template that does not parse would be dropped from every
		// service: a mistake to report before any registration.
		if _, err := parseTags(t); err != nil {
			return s, fmt.Errorf("tags: %q: %w", t, err)
		}
	}
	switch cfg.Deregister {
	case "", "always":
	case "on-success":
		s.onSuccess = true
	default:
		return s, fmt.Errorf("deregister %q: want \"always\" or \"on-success\"", cfg.Deregister)
	}
	switch cfg.Health {
	case "":
	case "docker":
		s.health = true
	default:
		return s, fmt.Errorf("health %q: want \"docker\" or nothing", cfg.Health)
	}
	switch cfg.AddressFamily {
	case "", "ipv4":
	case "ipv6":
		s.ipv6 = true
	default:
		return s, fmt.Errorf("address_family %q: want \"ipv4\" or \"ipv6\"", cfg.AddressFamily)
	}
	return s, nil
}

// matches reports whether a container's labels pass the block's filter: every
// filter label must be present, with the given value unless that is empty.
func (s settings) matches(labels map[string]string) bool {
	for k, want := range s.filter {
		got, ok := labels[k]
		if !ok || (want != "" && got != want) {
			return false
		}
	}
	return true
}
