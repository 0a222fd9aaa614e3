package consul

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// datacenters lists the known datacenters, sorted. Consul cannot watch them,
// so a "blocking" query (WaitIndex > 0) sleeps DatacentersPoll first and
// answers with the next index: the pool stays uniform and only signals when
// the list differs. With IgnoreInaccessible, a datacenter is kept only if a
// consistent catalog query to it succeeds, as consul-template probes them.
func (f *Fetcher) datacenters(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, watch.ResponseMeta, error) {
	if q.WaitIndex > 0 {
		t := time.NewTimer(f.o.DatacentersPoll)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return nil, watch.ResponseMeta{}, fmt.Errorf("fetch %s: %w", d, ctx.Err())
		case <-t.C:
		}
	}
	var dcs []string
	if _, err := f.c.Raw().Query("/v1/catalog/datacenters", &dcs, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return nil, watch.ResponseMeta{}, fmt.Errorf("fetch %s: %w", d, err)
	}
	if d.IgnoreInaccessible {
		reachable := make([]string, 0, len(dcs))
		for _, dc := range dcs {
			o := (&api.QueryOptions{Datacenter: dc, RequireConsistent: true}).WithContext(ctx)
			if _, _, err := f.c.Catalog().Services(o); err == nil {
				reachable = append(reachable, dc)
			}
		}
		if ctx.Err() != nil {
			return nil, watch.ResponseMeta{}, fmt.Errorf("fetch %s: %w", d, ctx.Err())
		}
		dcs = reachable
	}
	slices.Sort(dcs)
	return dcs, watch.ResponseMeta{LastIndex: q.WaitIndex + 1}, nil
}
