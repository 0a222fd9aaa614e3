package consul

import (
	"context"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// kv reads one key, for kv.get and kv.block alike. A missing key is an
// answer (Exists false) whose index still lets the next query block until
// the key appears.
func (f *Fetcher) kv(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Datacenter, o.Namespace, o.Partition = d.DC, d.Namespace, d.Partition
	pair, qm, err := f.c.KV().Get(d.Name, o)
	if err != nil {
		return nil, nil, err
	}
	if pair == nil {
		return dep.KVValue{}, qm, nil
	}
	return dep.KVValue{Exists: true, Value: string(pair.Value)}, qm, nil
}
