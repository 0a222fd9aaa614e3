package consul

import (
	"context"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// caRoots lists the Connect CA roots, as dep.CARoot: the fields that
// consul-template's consul/api (v1.32) decodes, no more. The agent serves
// this endpoint from its own cache and supports blocking on it.
func (f *Fetcher) caRoots(ctx context.Context, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	list, qm, err := f.c.Agent().ConnectCARoots(options(ctx, q))
	if err != nil {
		return nil, nil, err
	}
	if list.Roots == nil {
		return []*dep.CARoot(nil), qm, nil
	}
	roots := make([]*dep.CARoot, 0, len(list.Roots))
	for _, r := range list.Roots {
		if r == nil {
			return nil, nil, malformed("null CA root")
		}
		roots = append(roots, &dep.CARoot{
			ID:          r.ID,
			Name:        r.Name,
			RootCertPEM: r.RootCertPEM,
			Active:      r.Active,
			CreateIndex: r.CreateIndex,
			ModifyIndex: r.ModifyIndex,
		})
	}
	return roots, qm, nil
}
