package dep

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hashicorp/consul/api"

	mirror "github.com/drcon/drcon/template/dep/api"
	"github.com/drcon/drcon/template/dep/dependency"
)

// The answer types that templates see live in package dependency, as
// consul-template's do: %T and %#v print the package name with the type
// ({{ printf "%#v" .Tags }} is dependency.ServiceTags{...}), so the name
// is part of the output. They are aliased here for drcon's own use.
type (
	ServiceTags         = dependency.ServiceTags
	HealthService       = dependency.HealthService
	KeyPair             = dependency.KeyPair
	CatalogSnippet      = dependency.CatalogSnippet
	Node                = dependency.Node
	CatalogNode         = dependency.CatalogNode
	CatalogNodeService  = dependency.CatalogNodeService
	Peering             = dependency.Peering
	PeeringStreamStatus = dependency.PeeringStreamStatus
	PeeringRemoteInfo   = dependency.PeeringRemoteInfo
)

// KVValue is the answer to a KV query: whether the key exists and its value.
type KVValue struct {
	Exists bool
	Value  string
}

// NoData reports whether v, an answer to d, gives it no data. key
// (kv.block) waits for its key to exist: consul-template drops a blocking
// query's empty answer, so a missing key neither wakes a template nor, once
// the key had a value, takes that value away when the key is deleted (the
// template goes on rendering other changes with the last value).
func (d Dependency) NoData(v any) bool {
	if d.Kind != KindKVBlock {
		return false
	}
	kv, _ := v.(KVValue)
	return !kv.Exists
}

// ErrFailedLookup is why a key has no data under err_on_failed_lookup:
// Consul answered that it does not exist, and the template is not to wait
// for it.
var ErrFailedLookup = errors.New("the key does not exist in Consul, and err_on_failed_lookup is true")

// CARoot is a Connect CA root certificate (see package api for why it is
// a type of drcon's own).
type CARoot = mirror.CARoot

// NewValue returns a pointer to a zero answer of the kind's type, for decoding.
func NewValue(k Kind) (any, error) {
	switch k {
	case KindKV, KindKVBlock:
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
	case KindPeerings:
		return new([]*Peering), nil
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
	case *[]*Peering:
		return *v, nil
	}
	return nil, fmt.Errorf("decode %s answer: no value type", k)
}
