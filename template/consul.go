package template

import (
	"fmt"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/template/dep"
)

// The Consul functions. Each parses its argument into a Dependency, records
// it, and answers from the Store. Without data they return what
// consul-template's return on the same pass (empty lists, "", false, nil), so
// that n-pass discovery (range services, then service .Name) finds the same
// dependencies on the next pass.

// healthFunc is service or connect: the filter may also come as a second
// argument, joined with "|" as consul-template does.
func (x *execution) healthFunc(kind dep.Kind) func(...string) ([]*dep.HealthService, error) {
	return func(s ...string) ([]*dep.HealthService, error) {
		if len(s) == 0 || s[0] == "" {
			return []*dep.HealthService{}, nil
		}
		n, err := x.query(kind, strings.Join(s, "|"), func(q string) (dep.Dependency, error) {
			return dep.ParseHealthService(kind, q)
		})
		if err != nil {
			return nil, err
		}
		v, ok := x.recall(n)
		if !ok {
			return []*dep.HealthService{}, nil
		}
		return answer[[]*dep.HealthService](n, v)
	}
}

func (x *execution) services(s ...string) ([]*dep.CatalogSnippet, error) {
	n, err := x.query(dep.KindCatalogServices, strings.Join(s, ""), dep.ParseCatalogServices)
	if err != nil {
		return nil, err
	}
	v, ok := x.recall(n)
	if !ok {
		return []*dep.CatalogSnippet{}, nil
	}
	return answer[[]*dep.CatalogSnippet](n, v)
}

// node returns any, as consul-template's does: without data it is a nil
// interface, so {{ with node }} is false.
func (x *execution) node(s ...string) (any, error) {
	n, err := x.query(dep.KindCatalogNode, strings.Join(s, ""), dep.ParseCatalogNode)
	if err != nil {
		return nil, err
	}
	v, ok := x.recall(n)
	if !ok {
		return nil, nil
	}
	if v == nil {
		v = (*dep.CatalogNode)(nil)
	}
	node, err := answer[*dep.CatalogNode](n, v)
	if err == nil && node == nil {
		// consul-template answers an unknown node with an empty CatalogNode,
		// not nil: {{ with node "x" }} is true and .Node is nil.
		node = &dep.CatalogNode{}
	}
	return node, err
}

func (x *execution) nodes(s ...string) ([]*dep.Node, error) {
	n, err := x.query(dep.KindCatalogNodes, strings.Join(s, ""), dep.ParseCatalogNodes)
	if err != nil {
		return nil, err
	}
	v, ok := x.recall(n)
	if !ok {
		return []*dep.Node{}, nil
	}
	return answer[[]*dep.Node](n, v)
}

func (x *execution) datacenters(ignore ...bool) ([]string, error) {
	if len(ignore) > 1 {
		return []string{}, fmt.Errorf("datacenters: wrong number of arguments, expected 0 or 1, but got %d", len(ignore))
	}
	n := x.datacentersDep(len(ignore) == 1 && ignore[0])
	v, ok := x.recall(n)
	if !ok {
		return []string{}, nil
	}
	return answer[[]string](n, v)
}

// datacentersName is consul-template's name for the dependency of
// datacenters, with either argument.
var datacentersName = dep.Datacenters(false).String()

// datacentersDep is the dependency of a datacenters call. consul-template
// names both variants catalog.datacenters, so to it they are one
// dependency, queried as its first caller asked, whose answer every call
// gets: {{ if datacenters true }}{{ index datacenters 0 }}{{ end }} has the
// data it tests for. Here both variants go by that name, so the first call
// of an execution answers the others; that call takes the other variant
// when the store answers it and not the one asked for (an earlier pass
// asked for the other).
func (x *execution) datacentersDep(ignore bool) named {
	n := named{datacentersName, dep.Datacenters(ignore)}
	if _, seen := x.index[n.name]; !seen && !x.has(n.d) {
		if other := dep.Datacenters(!ignore); x.has(other) {
			n.d = other
		}
	}
	return n
}

// kvValue parses a key as a dependency of kind (kv.get or kv.block) and
// answers it; ok is false when there is no data.
func (x *execution) kvValue(kind dep.Kind, s string) (n named, v dep.KVValue, ok bool, err error) {
	parse := dep.ParseKV
	if kind == dep.KindKVBlock {
		parse = dep.ParseKVBlock
	}
	if n, err = x.query(kind, s, parse); err != nil {
		return n, v, false, err
	}
	a, ok := x.recall(n)
	if !ok {
		return n, v, false, nil
	}
	v, err = answer[dep.KVValue](n, a)
	return n, v, err == nil, err
}

// key waits for the key to exist: an absent key is missing data.
func (x *execution) key(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	n, v, ok, err := x.kvValue(dep.KindKVBlock, s)
	if err != nil || !ok {
		return "", err
	}
	if !v.Exists {
		x.miss(n)
		return "", nil
	}
	return v.Value, nil
}

func (x *execution) keyExists(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	_, v, _, err := x.kvValue(dep.KindKV, s)
	return v.Exists, err
}

// keyOrDefault answers def for an absent key and for an empty value, and
// while the key has no data yet.
func (x *execution) keyOrDefault(s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	_, v, _, err := x.kvValue(dep.KindKV, s)
	if err != nil {
		return "", err
	}
	if !v.Exists || v.Value == "" {
		return def, nil
	}
	return v.Value, nil
}

// lsFilter keeps the direct children of the prefix.
func lsFilter(p *dep.KeyPair) bool { return p.Key != "" && !strings.Contains(p.Key, "/") }

// treeFilter keeps every key but folders (keys ending in "/").
func treeFilter(p *dep.KeyPair) bool {
	return p.Key != "" && !strings.HasSuffix(p.Key, "/")
}

// kvFunc is ls, safeLs, tree or safeTree. The safe variants treat an empty
// result as missing data, so a template never renders a blank list while
// Consul answers empty (consul-template #1131).
func (x *execution) kvFunc(keep func(*dep.KeyPair) bool, emptyIsSafe bool) func(string) ([]*dep.KeyPair, error) {
	return func(s string) ([]*dep.KeyPair, error) {
		result := []*dep.KeyPair{}
		if s == "" {
			return result, nil
		}
		n, err := x.query(dep.KindKVList, s, dep.ParseKVList)
		if err != nil {
			return result, err
		}
		v, ok := x.recall(n)
		if !ok {
			return result, nil
		}
		pairs, err := answer[[]*dep.KeyPair](n, v)
		if err != nil {
			return result, err
		}
		for _, p := range pairs {
			if p != nil && keep(p) {
				result = append(result, p)
			}
		}
		if len(result) == 0 && !emptyIsSafe {
			x.miss(n)
		}
		return result, nil
	}
}

// caRoots ignores its arguments, as consul-template's does.
func (x *execution) caRoots(...string) ([]*dep.CARoot, error) {
	n := x.fixed(dep.CARoots())
	v, ok := x.recall(n)
	if !ok {
		return nil, nil
	}
	return answer[[]*dep.CARoot](n, v)
}

// peerings returns an empty list without data, as consul-template's does.
func (x *execution) peerings(s ...string) ([]*dep.Peering, error) {
	n, err := x.query(dep.KindPeerings, strings.Join(s, ""), dep.ParsePeerings)
	if err != nil {
		return nil, err
	}
	v, ok := x.recall(n)
	if !ok {
		return []*dep.Peering{}, nil
	}
	return answer[[]*dep.Peering](n, v)
}

// caLeaf returns any, as consul-template's does (nil without data).
func (x *execution) caLeaf(s ...string) (any, error) {
	if len(s) == 0 || s[0] == "" {
		return nil, nil
	}
	n, _ := x.query(dep.KindCALeaf, s[0], func(name string) (dep.Dependency, error) { return dep.CALeaf(name), nil })
	v, ok := x.recall(n)
	if !ok {
		return nil, nil
	}
	return answer[*api.LeafCert](n, v)
}
