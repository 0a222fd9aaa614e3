package config

import (
	"reflect"

	"github.com/hashicorp/hcl/v2"
)

// mergeFile merges src, a later file, into dst: a key set in src replaces
// the same key in dst, singleton blocks merge key by key, and repeated
// blocks (template, registrator) add up.
func mergeFile(dst, src *rawFile) {
	// wait = "..." and wait {} are one setting in two forms: the later
	// file's form replaces the earlier one whole.
	if src.WaitAttr != nil {
		dst.Wait = nil
	}
	if src.Wait != nil {
		dst.WaitAttr = nil
	}
	mergeStruct(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

var attrPtrType = reflect.TypeOf((*hcl.Attribute)(nil))

// mergeStruct merges the raw struct src into dst field by field: attributes
// and ranges are replaced, nested blocks merged, lists of blocks appended.
func mergeStruct(dst, src reflect.Value) {
	for i := 0; i < dst.NumField(); i++ {
		d, s := dst.Field(i), src.Field(i)
		switch {
		case s.IsZero():
		case s.Kind() == reflect.Slice:
			d.Set(reflect.AppendSlice(d, s))
		case s.Kind() == reflect.Pointer && s.Type() != attrPtrType && !d.IsNil():
			mergeStruct(d.Elem(), s.Elem())
		default:
			d.Set(s)
		}
	}
}
