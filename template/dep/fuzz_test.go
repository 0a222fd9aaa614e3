package dep

import "testing"

// FuzzParse feeds every query parser the same text: whatever a template
// passes to service, key, ls, node, nodes, services or peerings, parsing
// must answer with a dependency or an error, and a dependency must name
// itself without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"web", "prod.web@dc2~n1|warning,passing", "web?ns=a&partition=p&peer=x",
		"a/b/c@dc1", "node1@dc2", "@dc", "~", "|", "?", "web?ns=%zz", "x\x00y", "web|any,", "@dc?peer=a"} {
		f.Add(s)
	}
	parsers := map[string]func(string) (Dependency, error){
		"service":  func(s string) (Dependency, error) { return ParseHealthService(KindHealthService, s) },
		"connect":  func(s string) (Dependency, error) { return ParseHealthService(KindHealthConnect, s) },
		"key":      ParseKV,
		"ls":       ParseKVList,
		"services": ParseCatalogServices,
		"node":     ParseCatalogNode,
		"nodes":    ParseCatalogNodes,
		"peerings": ParsePeerings,
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, parse := range parsers {
			d, err := parse(s)
			if err != nil {
				if err.Error() == "" {
					t.Errorf("%s(%q): empty error", name, s)
				}
				continue
			}
			if d.String() == "" {
				t.Errorf("%s(%q) has no name", name, s)
			}
			_ = d.Shareable()
		}
	})
}
