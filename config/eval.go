package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

// decoder evaluates raw attributes into Config values, collecting every
// problem as a diagnostic instead of stopping at the first.
type decoder struct {
	getenv func(string) string
	// ctxs are the evaluation contexts by configuration file name: file()
	// resolves against the directory of the file an expression is in.
	ctxs  map[string]*hcl.EvalContext
	diags hcl.Diagnostics
}

// errorf reports a problem with the value of attribute a.
func (d *decoder) errorf(a *hcl.Attribute, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  a.Expr.Range().Ptr(),
		Context:  a.Range.Ptr(),
	})
}

// errorAt reports a problem at rng (a block, or an attribute's name).
func (d *decoder) errorAt(rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject(rng),
	})
}

// warnAt records a warning at rng.
func (d *decoder) warnAt(rng hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagWarning,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject(rng),
	})
}

// subject is rng, or nil for the empty range of a job given by a flag.
func subject(rng hcl.Range) *hcl.Range {
	if rng.Filename == "" {
		return nil
	}
	return rng.Ptr()
}

// errorNoPos reports a problem that has no place in a file (a flag, an
// environment variable).
func (d *decoder) errorNoPos(summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
	})
}

// value evaluates a and converts it to ty; want describes ty for messages.
func (d *decoder) value(a *hcl.Attribute, ty cty.Type, want string) (cty.Value, bool) {
	v, diags := a.Expr.Value(d.ctxs[a.Range.Filename])
	switch a.Expr.(type) {
	case *hclsyntax.TemplateExpr, *hclsyntax.TemplateWrapExpr: // "...${x}..."
		diags = hintLiteral(diags)
	}
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		d.errorf(a, "Missing value", "%s must be %s, not null.", a.Name, want)
		return cty.NilVal, false
	}
	if outOfRange(v) { // computed, e.g. 1e200 * 1e200
		d.errorf(a, "Number out of range", "%s holds a number too large or too small for any setting of drcon.", a.Name)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		d.errorf(a, "Incorrect value type", "%s must be %s.", a.Name, want)
		return cty.NilVal, false
	}
	if ty.IsCollectionType() {
		for it := cv.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				d.errorf(a, "Missing value", "%s must be %s: an element is null.", a.Name, want)
				return cty.NilVal, false
			}
		}
	}
	return cv, true
}

// str sets *dst from a string attribute; it reports whether a was given
// and valid. The other typed helpers work the same way.
func (d *decoder) str(a *hcl.Attribute, dst *string) bool {
	if a == nil {
		return false
	}
	v, ok := d.value(a, cty.String, "a string")
	if ok {
		*dst = v.AsString()
	}
	return ok
}

func (d *decoder) boolean(a *hcl.Attribute, dst *bool) bool {
	if a == nil {
		return false
	}
	v, ok := d.value(a, cty.Bool, "true or false")
	if ok {
		*dst = v.True()
	}
	return ok
}

// integer accepts whole numbers from min to max.
func (d *decoder) integer(a *hcl.Attribute, dst *int, min, max int) bool {
	if a == nil {
		return false
	}
	v, ok := d.value(a, cty.Number, "a whole number")
	if !ok {
		return false
	}
	var n int
	if err := gocty.FromCtyValue(v, &n); err != nil || n < min || n > max {
		d.errorf(a, "Invalid number", "%s must be a whole number from %d to %d.", a.Name, min, max)
		return false
	}
	*dst = n
	return true
}

// strList reads a list of strings; a string is split at its commas, as
// consul-template's loader splits one given for a list.
func (d *decoder) strList(a *hcl.Attribute, dst *[]string) bool {
	if a == nil {
		return false
	}
	if v, diags := a.Expr.Value(d.ctxs[a.Range.Filename]); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		*dst = []string{}
		if s := v.AsString(); s != "" {
			*dst = strings.Split(s, ",")
		}
		return true
	}
	v, ok := d.value(a, cty.List(cty.String), "a list of strings")
	if !ok {
		return false
	}
	list := make([]string, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		list = append(list, e.AsString())
	}
	*dst = list
	return true
}

func (d *decoder) strMap(a *hcl.Attribute, dst *map[string]string) bool {
	if a == nil {
		return false
	}
	v, ok := d.value(a, cty.Map(cty.String), "a map of strings")
	if !ok {
		return false
	}
	m := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		m[k.AsString()] = e.AsString()
	}
	*dst = m
	return true
}

// duration reads a Go duration string such as "5s"; negative ones are
// refused because no setting of drcon means anything by them.
func (d *decoder) duration(a *hcl.Attribute, dst *time.Duration) bool {
	var s string
	if !d.str(a, &s) {
		return false
	}
	v, err := parseDuration(s)
	if err != nil {
		d.errorf(a, "Invalid duration", "%s: %s.", a.Name, err)
		return false
	}
	*dst = v
	return true
}

// enum reads a string that must be one of allowed.
func (d *decoder) enum(a *hcl.Attribute, dst *string, allowed ...string) bool {
	var s string
	if !d.str(a, &s) {
		return false
	}
	for _, v := range allowed {
		if s == v {
			*dst = s
			return true
		}
	}
	d.errorf(a, "Invalid value for "+a.Name, "%q is not one of %s.", s, quoteList(allowed))
	return false
}

// signal reads a signal name; "" disables it where allowEmpty.
func (d *decoder) signal(a *hcl.Attribute, dst *Signal, allowEmpty bool) bool {
	var s string
	if !d.str(a, &s) {
		return false
	}
	sig, err := parseSignal(s, allowEmpty)
	if err != nil {
		d.errorf(a, "Invalid signal", "%s: %s.", a.Name, err)
		return false
	}
	*dst = sig
	return true
}

// quoteList renders ["a", "b"] as `"a" or "b"`, for messages.
func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// hintLiteral adds to HCL's complaints about ${ and %{ what a configuration
// written for consul-template needs: its HCL 1 kept them literal (a shell
// variable in a command, haproxy's %{+Q}o in inline contents), HCL 2 reads
// them as interpolation and template directives.
//
// A string left open at the end of its line (a backslash-newline, which
// consul-template refuses too) is also "unterminated"; it gets no hint.
func hintLiteral(diags hcl.Diagnostics) hcl.Diagnostics {
	multiLine := slices.ContainsFunc(diags, func(d *hcl.Diagnostic) bool { return d.Summary == "Invalid multi-line string" })
	for _, d := range diags {
		switch d.Summary {
		case "Unterminated template string":
			if multiLine {
				continue
			}
			fallthrough
		case "Variables not allowed", "Invalid template directive", "Invalid template interpolation",
			"Extra characters after interpolation expression":
			d.Detail += " consul-template's HCL 1 kept ${ and %{ literal; in drcon's HCL write $${ and %%{ for them."
		}
	}
	return diags
}
