// Package dep defines dependencies: the queries a template needs answered
// (Consul health, catalog, KV and Connect queries), as comparable values with
// a canonical string, and the Go types of their answers.
//
// A Dependency is a plain comparable struct so that it can be a map key, be
// compared with ==, and be written to a snapshot or a dedup identity without
// any registry of types. Its canonical string follows consul-template's
// naming (health.service(web|passing), kv.list(app/), ...) so that operators
// who know one recognise the other in logs.
package dep

import (
	"slices"
	"strings"
)

// Kind names a kind of query. Its value is the prefix of the canonical string.
type Kind string

// The kinds of dependency a template can have.
const (
	// KV reads one key (keyExists, keyOrDefault). Value: KVValue.
	KindKV Kind = "kv.get"
	// KVBlock reads one key for key, which waits for Exists. Value: KVValue.
	// It is the same query as KV's but a dependency of its own, as in
	// consul-template (kv.block): a key that keyExists found is still
	// missing to key until its own query answers, a pass later.
	KindKVBlock Kind = "kv.block"
	// KVList lists a prefix recursively (ls, safeLs, tree, safeTree). Value: []*KeyPair.
	KindKVList Kind = "kv.list"
	// HealthService is a service's instances with health (service). Value: []*HealthService.
	KindHealthService Kind = "health.service"
	// HealthConnect is a service's Connect-capable instances (connect). Value: []*HealthService.
	KindHealthConnect Kind = "health.connect"
	// CatalogServices lists service names and tags (services). Value: []*CatalogSnippet.
	KindCatalogServices Kind = "catalog.services"
	// CatalogNode is one node and its services (node). Value: *CatalogNode, nil if absent.
	KindCatalogNode Kind = "catalog.node"
	// CatalogNodes lists nodes (nodes). Value: []*Node.
	KindCatalogNodes Kind = "catalog.nodes"
	// Datacenters lists datacenters (datacenters). Value: []string.
	KindDatacenters Kind = "catalog.datacenters"
	// CARoots is the Connect CA roots (caRoots). Value: []*CARoot.
	KindCARoots Kind = "connect.caroots"
	// CALeaf is a Connect leaf certificate (caLeaf). Value: *api.LeafCert.
	KindCALeaf Kind = "connect.caleaf"
	// Peerings lists the cluster peerings (peerings). Value: []*Peering.
	KindPeerings Kind = "list.peerings"
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindKV, KindKVBlock, KindKVList, KindHealthService, KindHealthConnect, KindCatalogServices,
	KindCatalogNode, KindCatalogNodes, KindDatacenters, KindCARoots, KindCALeaf, KindPeerings}

// Dependency is one query. Fields that do not apply to its Kind are empty.
type Dependency struct {
	Kind Kind
	// Name is the service name, the KV key or prefix, or the node name.
	Name string
	// Tag filters service instances by tag (service, connect).
	Tag string
	// DC is the datacenter; empty means the agent's.
	DC string
	// Near sorts by round-trip time to this node (service, nodes).
	Near string
	// Filter is the canonical health filter of service and connect: the
	// sorted, comma-joined list of any, passing, warning, critical,
	// maintenance, repeats kept. Empty is normalised to "passing" by the
	// parser.
	Filter string
	// Query options from "?ns=&partition=&peer=&sameness-group=".
	Namespace     string
	Partition     string
	Peer          string
	SamenessGroup string
	// IgnoreInaccessible is datacenters' optional argument.
	IgnoreInaccessible bool
}

// String is the canonical form: equal dependencies have equal strings and
// different dependencies different strings.
func (d Dependency) String() string {
	var b strings.Builder
	b.WriteString(string(d.Kind))
	arg := d.arg()
	if arg == "" {
		return b.String()
	}
	b.WriteByte('(')
	b.WriteString(arg)
	b.WriteByte(')')
	return b.String()
}

func (d Dependency) arg() string {
	var b strings.Builder
	if d.Tag != "" {
		b.WriteString(d.Tag)
		b.WriteByte('.')
	}
	b.WriteString(d.Name)
	if d.DC != "" {
		b.WriteString("@" + d.DC)
	}
	for _, o := range [...]struct{ k, v string }{
		{"partition", d.Partition}, {"ns", d.Namespace}, {"peer", d.Peer}, {"sameness-group", d.SamenessGroup},
	} {
		if o.v != "" {
			b.WriteString("@" + o.k + "=" + o.v)
		}
	}
	if d.Near != "" {
		b.WriteString("~" + d.Near)
	}
	if d.Filter != "" {
		b.WriteString("|" + d.Filter)
	}
	if d.IgnoreInaccessible {
		b.WriteString("ignore-inaccessible")
	}
	return b.String()
}

// Shareable reports whether the answer is the same for every agent that asks,
// so that dedup may publish it for others. The local node and Connect
// certificates are host-specific or secret and never shared.
func (d Dependency) Shareable() bool {
	switch d.Kind {
	case KindCatalogNode:
		return d.Name != ""
	case KindCARoots, KindCALeaf:
		return false
	}
	return true
}

// Sort orders dependencies by their canonical string, in place, and returns them.
func Sort(ds []Dependency) []Dependency {
	slices.SortFunc(ds, func(a, b Dependency) int { return strings.Compare(a.String(), b.String()) })
	return ds
}
