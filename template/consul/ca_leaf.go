package consul

import (
	"context"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// caLeaf reads the Connect leaf certificate of a service. The agent
// generates it, renews it before expiry, and answers blocking queries on it.
func (f *Fetcher) caLeaf(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	leaf, qm, err := f.c.Agent().ConnectCALeaf(d.Name, options(ctx, q))
	if err != nil {
		return nil, nil, err
	}
	return leaf, qm, nil
}
