// Command bare is the least a Go program can be that renders the upstream
// template of BenchmarkTemplateOnceUpstreams: Consul's API client and
// text/template, two functions (services, service with the passing filter),
// no configuration, no watcher, no other function. It renders the same bytes
// as consul-template and drcon. The benchmark measures its peak RSS beside
// theirs, as the floor that any renderer built on these libraries starts from.
//
//	bare ADDR SRC DEST
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"text/template"

	"github.com/hashicorp/consul/api"
)

// instance is what the template reads of a service instance.
type instance struct {
	Node, ID, Address string
	Port              int
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: bare ADDR SRC DEST")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

func run(addr, src, dest string) error {
	c, err := api.NewClient(&api.Config{Address: addr})
	if err != nil {
		return err
	}
	text, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	funcs := template.FuncMap{
		"services": func() ([]struct{ Name string }, error) {
			m, _, err := c.Catalog().Services(nil)
			if err != nil {
				return nil, err
			}
			var out []struct{ Name string }
			for name := range m {
				out = append(out, struct{ Name string }{name})
			}
			slices.SortFunc(out, func(a, b struct{ Name string }) int { return strings.Compare(a.Name, b.Name) })
			return out, nil
		},
		"service": func(name string) ([]instance, error) {
			es, _, err := c.Health().Service(name, "", true, nil)
			if err != nil {
				return nil, err
			}
			out := make([]instance, 0, len(es))
			for _, e := range es {
				i := instance{Node: e.Node.Node, ID: e.Service.ID, Address: e.Service.Address, Port: e.Service.Port}
				if i.Address == "" {
					i.Address = e.Node.Address
				}
				out = append(out, i)
			}
			slices.SortFunc(out, func(a, b instance) int {
				if n := strings.Compare(a.Node, b.Node); n != 0 {
					return n
				}
				return strings.Compare(a.ID, b.ID)
			})
			return out, nil
		},
	}
	t, err := template.New("").Funcs(funcs).Parse(string(text))
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := t.Execute(&b, nil); err != nil {
		return err
	}
	return os.WriteFile(dest, []byte(b.String()), 0o644)
}
