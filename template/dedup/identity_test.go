package dedup

import (
	"testing"

	"github.com/drcon/drcon/template/dep"
)

// TestIdentity pins identities: agents of different drcon releases must
// name a set the same way to share it, so changing one is changing
// identityTag. The sets are built from dependencies, so that a change of
// their canonical strings shows here too.
func TestIdentity(t *testing.T) {
	web := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}.String()
	webDC2 := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing", DC: "dc2"}.String()
	webNS := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing", Namespace: "team"}.String()
	svcs := dep.Dependency{Kind: dep.KindCatalogServices}.String()
	hostKey := dep.Dependency{Kind: dep.KindKV, Name: "app/host-a"}.String()
	tests := []struct {
		name string
		set  []string
		want string
	}{
		{"one", []string{web}, "4e14f736bae7bcdc63a13e83138c1e8f"},
		{"two", []string{web, svcs}, "3dc8270e2abfa2a1901102e9febd4a2d"},
		{"order and repeats do not matter", []string{svcs, web, svcs, web}, "3dc8270e2abfa2a1901102e9febd4a2d"},
		{"another datacenter is another set", []string{webDC2, svcs}, "deb31d3e3ce0b32bb38c320e198f87c7"},
		{"another namespace is another set", []string{webNS, svcs}, "ca66f0b7bde8ab29265f5c3df4d3944b"},
		{"a host's own key is another set", []string{web, svcs, hostKey}, "7d22ac3105fb554140325005524eddad"},
	}
	for _, tt := range tests {
		if got := Identity(tt.set); got != tt.want {
			t.Errorf("%s: Identity(%q) = %s, want %s", tt.name, tt.set, got, tt.want)
		}
	}
}

func TestGroupKeys(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"drcon/dedup/", "drcon/dedup/abc/lock"},
		{"drcon/dedup", "drcon/dedup/abc/lock"},
		{"/drcon/dedup/", "drcon/dedup/abc/lock"},
		{"", "abc/lock"},
	}
	for _, tt := range tests {
		if got := groupKeys(normalizePrefix(tt.prefix), "abc").lock; got != tt.want {
			t.Errorf("prefix %q: lock %q, want %q", tt.prefix, got, tt.want)
		}
	}
}
