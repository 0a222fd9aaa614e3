package consul

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// catalogNode reads one node and its services, sorted by service name then
// ID. An empty Name means the local agent's node. A node that does not exist
// gives an empty *CatalogNode (nil Node and Services), as consul-template's
// does: `{{ with node "x" }}` is true for it, and toJSON prints
// {"Node":null,"Services":null}.
func (f *Fetcher) catalogNode(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	name := d.Name
	if name == "" {
		var err error
		if name, err = f.self.resolve(ctx, f.c, q.WaitIndex == 0); err != nil {
			return nil, nil, err
		}
	}
	o := options(ctx, q)
	o.Datacenter, o.Namespace, o.Partition = d.DC, d.Namespace, d.Partition
	n, qm, err := f.c.Catalog().Node(name, o)
	if err != nil {
		return nil, nil, err
	}
	if n == nil || n.Node == nil {
		return &dep.CatalogNode{}, qm, nil
	}
	services := make([]*dep.CatalogNodeService, 0, len(n.Services))
	for _, s := range n.Services {
		if s == nil {
			return nil, nil, malformed("null service on a node")
		}
		services = append(services, &dep.CatalogNodeService{
			ID:                s.ID,
			Service:           s.Service,
			Tags:              sortedTags(s.Tags),
			Meta:              s.Meta,
			Port:              s.Port,
			Address:           s.Address,
			EnableTagOverride: s.EnableTagOverride,
		})
	}
	slices.SortFunc(services, func(a, b *dep.CatalogNodeService) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.ID, b.ID))
	})
	return &dep.CatalogNode{Node: node(n.Node), Services: services}, qm, nil
}

// agentName is the local agent's node name. consul-template asks the agent
// for it before every query of node(); it only changes when the agent
// restarts, after which the pool asks afresh (WaitIndex 0), so it is kept
// until then and a watch of node() costs one request per change, not two.
type agentName struct {
	mu   sync.Mutex
	name string
}

func (a *agentName) resolve(ctx context.Context, c *api.Client, fresh bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.name != "" && !fresh {
		return a.name, nil
	}
	var self struct{ Config struct{ NodeName string } }
	if _, err := c.Raw().Query("/v1/agent/self", &self, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return "", fmt.Errorf("ask the agent its node name: %w", err)
	}
	if self.Config.NodeName == "" {
		return "", malformed("agent without a node name")
	}
	a.name = self.Config.NodeName
	return a.name, nil
}
