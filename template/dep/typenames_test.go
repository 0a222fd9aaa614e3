package dep

import (
	"fmt"
	"testing"
)

// %T and %#v print a type with its package's name, so templates that print
// answers that way ({{ printf "%#v" .Tags }}) match consul-template only
// while the answer types live in a package named dependency, as its do.
func TestAnswerTypesPrintAsConsulTemplates(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{[]*HealthService{}, "[]*dependency.HealthService"},
		{ServiceTags{}, "dependency.ServiceTags"},
		{[]*KeyPair{}, "[]*dependency.KeyPair"},
		{[]*CatalogSnippet{}, "[]*dependency.CatalogSnippet"},
		{[]*Node{}, "[]*dependency.Node"},
		{&CatalogNode{}, "*dependency.CatalogNode"},
		{[]*CatalogNodeService{}, "[]*dependency.CatalogNodeService"},
	} {
		if got := fmt.Sprintf("%T", c.v); got != c.want {
			t.Errorf("%%T = %s, want %s", got, c.want)
		}
	}
	if got, want := fmt.Sprintf("%#v", ServiceTags{"a"}), `dependency.ServiceTags{"a"}`; got != want {
		t.Errorf("%%#v = %s, want %s", got, want)
	}
}

func TestCARootPrintsAsConsulAPIs(t *testing.T) {
	if got, want := fmt.Sprintf("%T", []*CARoot{}), "[]*api.CARoot"; got != want {
		t.Errorf("%%T = %s, want %s", got, want)
	}
}
