package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// maxNumberExp bounds the binary exponent of numbers in a configuration.
// No setting needs more than a few digits, and turning a number such as
// 1e1000000 into a string (HCL does so wherever a string is expected) takes
// time and memory that grow with its size.
const maxNumberExp = 256

// checkNumbers refuses number literals too large or too small to mean
// anything here, before any expression is evaluated.
func checkNumbers(body *hclsyntax.Body) hcl.Diagnostics {
	return hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		lit, ok := n.(*hclsyntax.LiteralValueExpr)
		if !ok || !outOfRange(lit.Val) {
			return nil
		}
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Number out of range",
			Detail:   "This number is too large or too small for any setting of drcon.",
			Subject:  lit.SrcRange.Ptr(),
		}}
	})
}

// outOfRange reports whether v is or holds a number out of range.
func outOfRange(v cty.Value) bool {
	found := false
	_ = cty.Walk(v, func(_ cty.Path, e cty.Value) (bool, error) {
		if e.Type() == cty.Number && e.IsKnown() && !e.IsNull() {
			bf := e.AsBigFloat()
			if exp := bf.MantExp(nil); bf.IsInf() || exp > maxNumberExp || exp < -maxNumberExp {
				found = true
			}
		}
		return !found, nil
	})
	return found
}
