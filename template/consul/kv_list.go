package consul

import (
	"context"
	"strings"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// kvList lists every key under a prefix, recursively, folder keys included:
// ls keeps the direct children and tree drops the folders, in the language,
// from this one answer. Key is the path relative to the prefix, without a
// leading slash; a prefix without keys gives an empty, non-nil list.
func (f *Fetcher) kvList(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Datacenter, o.Namespace, o.Partition = d.DC, d.Namespace, d.Partition
	list, qm, err := f.c.KV().List(d.Name, o)
	if err != nil {
		return nil, nil, err
	}
	pairs := make([]*dep.KeyPair, 0, len(list))
	for _, p := range list {
		if p == nil {
			return nil, nil, malformed("null key in a list")
		}
		pairs = append(pairs, &dep.KeyPair{
			Path:        p.Key,
			Key:         strings.TrimLeft(strings.TrimPrefix(p.Key, d.Name), "/"),
			Value:       string(p.Value),
			CreateIndex: p.CreateIndex,
			ModifyIndex: p.ModifyIndex,
			LockIndex:   p.LockIndex,
			Flags:       p.Flags,
			Session:     p.Session,
		})
	}
	return pairs, qm, nil
}
