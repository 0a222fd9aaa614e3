package dep

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// The argument grammar of consul-template's query strings. The character
// classes are consul-template's exactly (\w is [[:word:]]), so that a string
// one accepts the other accepts and splits the same way.
const (
	reQuery  = `(?:\?(?P<query>[\w=&-]+))?`
	reDC     = `(?:@(?P<dc>[\w.-]+))?`
	reNear   = `(?:~(?P<near>[\w.-]+))?`
	reFilter = `(?:\|(?P<filter>[\w,]+))?`
	reTag    = `(?:(?P<tag>[\w=:.-]+)\.)?`
)

var (
	serviceRe  = regexp.MustCompile(`\A` + reTag + `(?P<name>[\w-]+)` + reQuery + reDC + reNear + reFilter + `\z`)
	kvRe       = regexp.MustCompile(`\A/?(?P<name>[^@?]+)` + reQuery + reDC + `\z`)
	servicesRe = regexp.MustCompile(`\A` + reQuery + reDC + `\z`)
	nodeRe     = regexp.MustCompile(`\A(?P<name>[\w.-]+)` + reQuery + reDC + `\z`)
	nodesRe    = regexp.MustCompile(`\A` + reQuery + reDC + reNear + `\z`)
	queryRe    = regexp.MustCompile(`\A` + reQuery + `\z`)
)

// The health filters service and connect accept.
var healthFilters = []string{"any", "critical", "maintenance", "passing", "warning"}

// The query keys consul-template accepts after "?", in its error's order.
var queryKeys = []string{"ns", "peer", "partition", "sameness-group"}

// match applies re to s and returns its named groups; ok is false when s
// does not match.
func match(re *regexp.Regexp, s string) (groups map[string]string, ok bool) {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	groups = make(map[string]string, len(m))
	for i, name := range re.SubexpNames() {
		if name != "" {
			groups[name] = m[i]
		}
	}
	return groups, true
}

// query parses the "?ns=&partition=&peer=&sameness-group=" options, with
// consul-template's errors; label names the query kind in them.
func query(label, raw string) (url.Values, error) {
	if raw == "" {
		return url.Values{}, nil
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid query: %q: %s", label, raw, err)
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic choice of the key an error names
	for _, k := range keys {
		if !slices.Contains(queryKeys, k) {
			return nil, fmt.Errorf("%s: invalid query parameter key %q in query %q: supported keys: %s",
				label, k, raw, strings.Join(queryKeys, ","))
		}
	}
	return v, nil
}

// ParseHealthService parses the argument of service (kind KindHealthService)
// or connect (KindHealthConnect):
// [tag.]name[?ns=&partition=&peer=&sameness-group=][@dc][~near][|filter,...].
// The template functions join a second argument with "|", as consul-template
// does, before calling it.
//
// The Filter is canonical as consul-template's: the named health states,
// sorted and comma-joined, a repeated state kept ("web|passing,passing" is a
// query of its own there, filtered on the client); "passing" when none is
// given. A filter list that names no state ("web|,") has an empty Filter:
// as in consul-template, the query runs (and fails where Consul refuses it)
// and accepts no instance.
func ParseHealthService(kind Kind, s string) (Dependency, error) {
	const label = "health.service" // consul-template's label for connect too
	m, ok := match(serviceRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	filter := "passing"
	if f := m["filter"]; f != "" {
		var names []string
		for _, name := range strings.Split(f, ",") {
			switch {
			case name == "":
			case slices.Contains(healthFilters, name):
				names = append(names, name)
			default:
				return Dependency{}, fmt.Errorf("%s: invalid filter: %q in %q", label, name, s)
			}
		}
		slices.Sort(names)
		filter = strings.Join(names, ",")
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	if q.Get("sameness-group") != "" && q.Get("peer") != "" {
		return Dependency{}, fmt.Errorf("%s: cannot specify both peer and sameness-group", label)
	}
	return Dependency{
		Kind:          kind,
		Name:          m["name"],
		Tag:           m["tag"],
		DC:            m["dc"],
		Near:          m["near"],
		Filter:        filter,
		Namespace:     q.Get("ns"),
		Partition:     q.Get("partition"),
		Peer:          q.Get("peer"),
		SamenessGroup: q.Get("sameness-group"),
	}, nil
}

// ParseKV parses the argument of keyExists and keyOrDefault:
// path[?ns=&partition=][@dc]. A leading "/" is dropped. The functions return
// early on "" and never call it with that.
func ParseKV(s string) (Dependency, error) { return parseKV(KindKV, "kv.get", s) }

// ParseKVBlock parses the argument of key, as ParseKV (consul-template's
// errors name kv.get for both).
func ParseKVBlock(s string) (Dependency, error) { return parseKV(KindKVBlock, "kv.get", s) }

// ParseKVList parses the argument of ls, safeLs, tree and safeTree:
// prefix[?ns=&partition=][@dc]. A leading "/" is dropped.
func ParseKVList(s string) (Dependency, error) { return parseKV(KindKVList, "kv.list", s) }

func parseKV(kind Kind, label, s string) (Dependency, error) {
	m, ok := match(kvRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	// peer and sameness-group pass validation but KV queries ignore them.
	return Dependency{Kind: kind, Name: m["name"], DC: m["dc"],
		Namespace: q.Get("ns"), Partition: q.Get("partition")}, nil
}

// ParseCatalogServices parses the argument of services: [?ns=&partition=][@dc].
func ParseCatalogServices(s string) (Dependency, error) {
	const label = "catalog.services"
	m, ok := match(servicesRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	return Dependency{Kind: KindCatalogServices, DC: m["dc"],
		Namespace: q.Get("ns"), Partition: q.Get("partition")}, nil
}

// ParseCatalogNode parses the argument of node: [name[?ns=&partition=][@dc]].
// An empty string is the local agent's node; options need a name.
func ParseCatalogNode(s string) (Dependency, error) {
	const label = "catalog.node"
	if s == "" {
		return Dependency{Kind: KindCatalogNode}, nil
	}
	m, ok := match(nodeRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	return Dependency{Kind: KindCatalogNode, Name: m["name"], DC: m["dc"],
		Namespace: q.Get("ns"), Partition: q.Get("partition")}, nil
}

// ParseCatalogNodes parses the argument of nodes: [?ns=&partition=][@dc][~near].
func ParseCatalogNodes(s string) (Dependency, error) {
	const label = "catalog.nodes"
	m, ok := match(nodesRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	return Dependency{Kind: KindCatalogNodes, DC: m["dc"], Near: m["near"],
		Namespace: q.Get("ns"), Partition: q.Get("partition")}, nil
}

// Datacenters is the dependency of datacenters; ignoreInaccessible is its
// optional argument (drop datacenters that do not answer).
func Datacenters(ignoreInaccessible bool) Dependency {
	return Dependency{Kind: KindDatacenters, IgnoreInaccessible: ignoreInaccessible}
}

// CARoots is the dependency of caRoots.
func CARoots() Dependency { return Dependency{Kind: KindCARoots} }

// ParsePeerings parses the argument of peerings: [?partition=]. The other
// query keys are accepted and ignored, as consul-template does.
func ParsePeerings(s string) (Dependency, error) {
	const label = "list.peering"
	m, ok := match(queryRe, s)
	if !ok {
		return Dependency{}, fmt.Errorf("%s: invalid format: %q", label, s)
	}
	q, err := query(label, m["query"])
	if err != nil {
		return Dependency{}, err
	}
	return Dependency{Kind: KindPeerings, Partition: q.Get("partition")}, nil
}

// CALeaf is the dependency of caLeaf for a service; consul-template does not
// validate the name.
func CALeaf(service string) Dependency { return Dependency{Kind: KindCALeaf, Name: service} }
