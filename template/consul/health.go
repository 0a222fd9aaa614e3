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

// health lists a service's instances with their health (service), or its
// Connect-capable instances (connect).
//
// Only the exact filter "passing" asks Consul for passing instances
// (?passing=1); every filter is then applied here to each instance's status,
// aggregated over its node and service checks (maintenance > critical >
// warning > passing), so a node-level warning hides the instance from
// "passing". Address falls back to the node's. Instances are sorted by node
// then service ID unless Near asked for Consul's round-trip order.
func (f *Fetcher) health(ctx context.Context, d dep.Dependency, q watch.QueryOptions, connect bool) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Datacenter, o.Near = d.DC, d.Near
	o.Namespace, o.Partition, o.Peer, o.SamenessGroup = d.Namespace, d.Partition, d.Peer, d.SamenessGroup
	o.UseCache = f.cached(q)

	// An empty Filter names no state ("web|,"): like consul-template, ask
	// for every instance and accept none.
	var accept []string
	if d.Filter != "" {
		accept = strings.Split(d.Filter, ",")
	}
	get := f.c.Health().Service
	if connect {
		get = f.c.Health().Connect
	}
	entries, qm, err := get(d.Name, d.Tag, d.Filter == api.HealthPassing, o)
	if err != nil {
		return nil, nil, err
	}

	list := make([]*dep.HealthService, 0, len(entries))
	for _, e := range entries {
		if e == nil || e.Node == nil || e.Service == nil {
			return nil, nil, malformed("service entry without node or service")
		}
		status := e.Checks.AggregatedStatus()
		if !slices.Contains(accept, status) && !slices.Contains(accept, api.HealthAny) {
			continue
		}
		address := e.Service.Address
		if address == "" {
			address = e.Node.Address
		}
		list = append(list, &dep.HealthService{
			Node:                   e.Node.Node,
			NodeID:                 e.Node.ID,
			NodeAddress:            e.Node.Address,
			NodeTaggedAddresses:    e.Node.TaggedAddresses,
			NodeMeta:               e.Node.Meta,
			ServiceMeta:            e.Service.Meta,
			Address:                address,
			ServiceTaggedAddresses: e.Service.TaggedAddresses,
			ID:                     e.Service.ID,
			Name:                   e.Service.Service,
			Tags:                   sortedTags(e.Service.Tags),
			Checks:                 e.Checks,
			Status:                 status,
			Port:                   e.Service.Port,
			Weights:                e.Service.Weights,
		})
	}
	if d.Near == "" {
		slices.SortStableFunc(list, func(a, b *dep.HealthService) int {
			return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
		})
	}
	return list, qm, nil
}
