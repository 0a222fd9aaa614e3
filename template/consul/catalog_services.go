package consul

import (
	"context"
	"slices"
	"strings"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/watch"
	"github.com/hashicorp/consul/api"
)

// catalogServices lists the services of the catalog with the union of their
// tags, sorted by name; nil, as consul-template gives it, when there is none.
func (f *Fetcher) catalogServices(ctx context.Context, d dep.Dependency, q watch.QueryOptions) (any, *api.QueryMeta, error) {
	o := options(ctx, q)
	o.Datacenter, o.Namespace, o.Partition = d.DC, d.Namespace, d.Partition
	entries, qm, err := f.c.Catalog().Services(o)
	if err != nil {
		return nil, nil, err
	}
	var list []*dep.CatalogSnippet
	for name, tags := range entries {
		list = append(list, &dep.CatalogSnippet{Name: name, Tags: sortedTags(tags)})
	}
	slices.SortFunc(list, func(a, b *dep.CatalogSnippet) int { return strings.Compare(a.Name, b.Name) })
	return list, qm, nil
}
