// Package dependency holds the answer types of drcon's template functions.
// Its name is consul-template's package name for the same types: Go's %T
// and %#v print it ({{ printf "%#v" .Tags }} renders
// dependency.ServiceTags{"a"}), so it is part of the output that must match.
// Package dep aliases these types; use them through it.
package dependency

import "github.com/hashicorp/consul/api"

// The answer types below have the field names, field order and field types of
// consul-template's, so that templates which print or serialise them whole
// ({{ . }}, toJSON) give the same bytes.

// ServiceTags is a service's tags.
type ServiceTags []string

// HealthService is one instance of a service with its health.
type HealthService struct {
	Node                   string
	NodeID                 string
	NodeAddress            string
	NodeTaggedAddresses    map[string]string
	NodeMeta               map[string]string
	ServiceMeta            map[string]string
	Address                string
	ServiceTaggedAddresses map[string]api.ServiceAddress
	ID                     string
	Name                   string
	Tags                   ServiceTags
	Checks                 api.HealthChecks
	Status                 string
	Port                   int
	Weights                api.AgentWeights
}

// KeyPair is one KV entry.
type KeyPair struct {
	Path  string
	Key   string
	Value string

	CreateIndex uint64
	ModifyIndex uint64
	LockIndex   uint64
	Flags       uint64
	Session     string
}

// CatalogSnippet is a service name and the union of its tags.
type CatalogSnippet struct {
	Name string
	Tags ServiceTags
}

// Node is a catalog node.
type Node struct {
	ID              string
	Node            string
	Address         string
	Datacenter      string
	TaggedAddresses map[string]string
	Meta            map[string]string
}

// CatalogNode is a node and the services registered on it.
type CatalogNode struct {
	Node     *Node
	Services []*CatalogNodeService
}

// CatalogNodeService is a service as listed on a node.
type CatalogNodeService struct {
	ID                string
	Service           string
	Tags              ServiceTags
	Meta              map[string]string
	Port              int
	Address           string
	EnableTagOverride bool
}
