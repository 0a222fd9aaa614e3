package consul

import (
	"cmp"
	"context"
	"net/url"
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
	instances, qm, err := f.instances(d, o, connect)
	if err != nil {
		return nil, nil, err
	}

	list := make([]*dep.HealthService, 0, len(instances))
	for _, in := range instances {
		if in == nil || !in.hasNode || !in.hasService {
			return nil, nil, malformed("service entry without node or service")
		}
		if slices.Contains(in.Checks, nil) {
			return nil, nil, malformed("null health check")
		}
		status := in.Checks.AggregatedStatus()
		if !slices.Contains(accept, status) && !slices.Contains(accept, api.HealthAny) {
			continue
		}
		hs := &in.HealthService
		if hs.Address == "" {
			hs.Address = hs.NodeAddress
		}
		hs.Status = status
		hs.Tags = sortedTags(hs.Tags)
		list = append(list, hs)
	}
	if d.Near == "" {
		slices.SortStableFunc(list, func(a, b *dep.HealthService) int {
			return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
		})
	}
	return list, qm, nil
}

// instance is one entry of a health answer: the instance as templates see
// it, with the service's own address and no status yet, and whether the
// entry had its node and its service.
type instance struct {
	dep.HealthService
	hasNode, hasService bool
}

// instances asks Consul for a service's instances. With the client's
// configuration at hand the fetcher sends the query and decodes the answer
// itself (health_json.go); otherwise consul/api does both.
func (f *Fetcher) instances(d dep.Dependency, o *api.QueryOptions, connect bool) ([]*instance, *api.QueryMeta, error) {
	passing := d.Filter == api.HealthPassing
	if f.o.Config == nil {
		get := f.c.Health().Service
		if connect {
			get = f.c.Health().Connect
		}
		entries, qm, err := get(d.Name, d.Tag, passing, o)
		if err != nil {
			return nil, nil, err
		}
		out := make([]*instance, len(entries))
		for i, e := range entries {
			out[i] = fromEntry(e)
		}
		return out, qm, nil
	}
	path := "/v1/health/service/"
	if connect {
		path = "/v1/health/connect/"
	}
	params := url.Values{}
	if d.Tag != "" {
		params.Set("tag", d.Tag)
	}
	if passing {
		params.Set(api.HealthPassing, "1")
	}
	body, qm, err := f.get(o.Context(), path+d.Name, params, o)
	if err != nil {
		return nil, nil, err
	}
	out, err := decodeHealth(body.Bytes())
	bodies.Put(body)
	if err != nil {
		return nil, nil, err
	}
	return out, qm, nil
}

// fromEntry is the instance of an entry consul/api decoded; nil for nil.
func fromEntry(e *api.ServiceEntry) *instance {
	if e == nil {
		return nil
	}
	in := &instance{hasNode: e.Node != nil, hasService: e.Service != nil}
	in.Checks = e.Checks
	if n := e.Node; n != nil {
		in.Node, in.NodeID, in.NodeAddress, in.NodeTaggedAddresses, in.NodeMeta = n.Node, n.ID, n.Address, n.TaggedAddresses, n.Meta
	}
	if s := e.Service; s != nil {
		in.ID, in.Name, in.Tags, in.Address, in.ServiceMeta = s.ID, s.Service, s.Tags, s.Address, s.Meta
		in.Port, in.ServiceTaggedAddresses, in.Weights = s.Port, s.TaggedAddresses, s.Weights
	}
	return in
}
