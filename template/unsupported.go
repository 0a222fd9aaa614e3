package template

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// unsupported are consul-template's functions that drcon refuses, and why.
// A template calling one is refused when it is parsed (not hours later when
// a branch first runs); one that only mentions the name in text is fine.
var unsupported = map[string]string{
	"secret":           "it reads Vault",
	"secrets":          "it reads Vault",
	"pkiCert":          "it reads Vault",
	"nomadServices":    "it reads Nomad",
	"nomadService":     "it reads Nomad",
	"nomadVarList":     "it reads Nomad",
	"nomadVarListSafe": "it reads Nomad",
	"nomadVar":         "it reads Nomad",
	"nomadVarExists":   "it reads Nomad",
	"partitions":       "admin partitions are a Consul Enterprise feature",
	"exportedServices": "exported services are not supported",
}

var errUnsupported = errors.New("not supported by drcon")

// unsupportedNames lists the refused functions.
func unsupportedNames() []string { return slices.Sorted(maps.Keys(unsupported)) }

// unsupportedFuncs let the parser accept the names, so that refuseUnsupported
// can say more than "function not defined". They never run.
func unsupportedFuncs() template.FuncMap {
	m := template.FuncMap{}
	for name := range unsupported {
		m[name] = func(...any) (any, error) { return nil, errUnsupported }
	}
	return m
}

// refuseUnsupported walks every parse tree of t and fails on the first call
// of a refused function, naming the template, line and column. A refused
// function that is also denied is left alone: it fails as disabled if run.
func refuseUnsupported(t *template.Template, denied map[string]bool) error {
	trees := t.Templates()
	slices.SortFunc(trees, func(a, b *template.Template) int { return strings.Compare(a.Name(), b.Name()) })
	for _, tt := range trees {
		if tt.Tree == nil || tt.Tree.Root == nil {
			continue
		}
		var err error
		walk(tt.Tree.Root, func(id *parse.IdentifierNode) bool {
			why, ok := unsupported[id.Ident]
			if !ok || denied[id.Ident] {
				return true
			}
			loc, _ := tt.Tree.ErrorContext(id)
			err = fmt.Errorf("template: %s: function %q %w: %s", loc, id.Ident, errUnsupported, why)
			return false
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// calledFuncs lists the functions that the trees of t call.
func calledFuncs(t *template.Template) map[string]bool {
	used := map[string]bool{}
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			walk(tt.Tree.Root, func(id *parse.IdentifierNode) bool { used[id.Ident] = true; return true })
		}
	}
	return used
}

// walk calls visit on every function identifier under n, in order, until
// visit returns false; it reports whether to go on.
func walk(n parse.Node, visit func(*parse.IdentifierNode) bool) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !walk(c, visit) {
				return false
			}
		}
	case *parse.ActionNode:
		return walk(n.Pipe, visit)
	case *parse.IfNode:
		return walkBranch(&n.BranchNode, visit)
	case *parse.RangeNode:
		return walkBranch(&n.BranchNode, visit)
	case *parse.WithNode:
		return walkBranch(&n.BranchNode, visit)
	case *parse.TemplateNode:
		return walk(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return true
		}
		for _, c := range n.Cmds {
			if !walk(c, visit) {
				return false
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if !walk(a, visit) {
				return false
			}
		}
	case *parse.ChainNode:
		return walk(n.Node, visit)
	case *parse.IdentifierNode:
		return visit(n)
	}
	return true
}

func walkBranch(b *parse.BranchNode, visit func(*parse.IdentifierNode) bool) bool {
	return walk(b.Pipe, visit) && walk(b.List, visit) && walk(b.ElseList, visit)
}

// Refused lists consul-template's functions that drcon refuses at parse time.
func Refused() []string { return unsupportedNames() }
