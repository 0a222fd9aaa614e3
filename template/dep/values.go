package dep

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/consul/api"
)

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

// KVValue is the answer to a KV query: whether the key exists and its value.
type KVValue struct {
	Exists bool
	Value  string
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

// CARoot is a Connect CA root certificate. It mirrors api.CARoot of the
// consul/api consul-template v0.41.1 is built with (v1.32.1): later versions
// add NotBefore, NotAfter and DaysRemaining, which would change the bytes of
// {{ caRoots | toJSON }}.
type CARoot struct {
	ID          string
	Name        string
	RootCertPEM string `json:"RootCert"`
	Active      bool
	CreateIndex uint64
	ModifyIndex uint64
}

// NewValue returns a pointer to a zero answer of the kind's type, for decoding.
func NewValue(k Kind) (any, error) {
	switch k {
	case KindKV:
		return new(KVValue), nil
	case KindKVList:
		return new([]*KeyPair), nil
	case KindHealthService, KindHealthConnect:
		return new([]*HealthService), nil
	case KindCatalogServices:
		return new([]*CatalogSnippet), nil
	case KindCatalogNode:
		return new(*CatalogNode), nil
	case KindCatalogNodes:
		return new([]*Node), nil
	case KindDatacenters:
		return new([]string), nil
	case KindCARoots:
		return new([]*CARoot), nil
	case KindCALeaf:
		return new(*api.LeafCert), nil
	}
	return nil, fmt.Errorf("unknown dependency kind %q", k)
}

// DecodeValue decodes a JSON answer of the dependency's kind into its Go type
// (the value, not a pointer to it), as Fetch would have returned it.
func DecodeValue(k Kind, raw []byte) (any, error) {
	p, err := NewValue(k)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("decode %s answer: %w", k, err)
	}
	switch v := p.(type) {
	case *KVValue:
		return *v, nil
	case *[]*KeyPair:
		return *v, nil
	case *[]*HealthService:
		return *v, nil
	case *[]*CatalogSnippet:
		return *v, nil
	case **CatalogNode:
		return *v, nil
	case *[]*Node:
		return *v, nil
	case *[]string:
		return *v, nil
	case *[]*CARoot:
		return *v, nil
	case **api.LeafCert:
		return *v, nil
	}
	return nil, fmt.Errorf("decode %s answer: no value type", k)
}
