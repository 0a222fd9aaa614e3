package consul

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// catalogNodes lists the catalog's nodes, sorted by name then address unless
// Near asked for Consul's round-trip order.
func (f *Fetcher) catalogNodes(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Datacenter, o.Near, o.Namespace, o.Partition = d.DC, d.Near, d.Namespace, d.Partition
	nodes, qm, err := f.c.Catalog().Nodes(o)
	if err != nil {
		return nil, nil, err
	}
	list := make([]*dep.Node, 0, len(nodes))
	for _, n := range nodes {
		if n == nil {
			return nil, nil, malformed("null node in a list")
		}
		list = append(list, node(n))
	}
	if d.Near == "" {
		slices.SortStableFunc(list, func(a, b *dep.Node) int {
			return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.Address, b.Address))
		})
	}
	return list, qm, nil
}

func node(n *api.Node) *dep.Node {
	return &dep.Node{
		ID:              n.ID,
		Node:            n.Node,
		Address:         n.Address,
		Datacenter:      n.Datacenter,
		TaggedAddresses: n.TaggedAddresses,
		Meta:            n.Meta,
	}
}
