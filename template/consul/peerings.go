package consul

import (
	"context"
	"slices"
	"strings"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// peerings lists the cluster peerings, ordered as consul-template orders
// them: by state, then partition, then name, stably.
func (f *Fetcher) peerings(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Partition = d.Partition
	list, qm, err := f.c.Peerings().List(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*dep.Peering, 0, len(list))
	for _, p := range list {
		if p == nil {
			return nil, nil, malformed("null peering")
		}
		out = append(out, &dep.Peering{
			ID:                  p.ID,
			Name:                p.Name,
			Partition:           p.Partition,
			Meta:                p.Meta,
			PeeringState:        string(p.State),
			PeerID:              p.PeerID,
			PeerServerName:      p.PeerServerName,
			PeerServerAddresses: p.PeerServerAddresses,
			StreamStatus: dep.PeeringStreamStatus{
				ImportedServices: p.StreamStatus.ImportedServices,
				ExportedServices: p.StreamStatus.ExportedServices,
				LastHeartbeat:    p.StreamStatus.LastHeartbeat,
				LastReceive:      p.StreamStatus.LastReceive,
				LastSend:         p.StreamStatus.LastSend,
			},
			Remote: dep.PeeringRemoteInfo{Partition: p.Remote.Partition, Datacenter: p.Remote.Datacenter},
		})
	}
	slices.SortStableFunc(out, func(a, b *dep.Peering) int {
		if c := strings.Compare(a.PeeringState, b.PeeringState); c != 0 {
			return c
		}
		if c := strings.Compare(a.Partition, b.Partition); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, qm, nil
}
