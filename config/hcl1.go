package config

import (
	"bytes"
	"reflect"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// consul-template reads its configuration with HCL 1, which takes forms
// that HCL 2 refuses and that published configurations use:
//
//	wait { min = "2s" max = "10s" }                several items on a block's line
//	template { source = "a", destination = "b", }  items ended by commas
//	consul = { address = "127.0.0.1:8500" }        a block written as an argument
//	"destination" = "/etc/nginx/nginx.conf"        a name in quotes
//
// rewriteHCL1 turns them into HCL 2 before a file is parsed, so that such a
// file loads unchanged. It edits only separators: a space or a comma
// between items becomes a newline, a comma at the end of a line a space,
// the "=" of a block written as an argument and the quotes around a name a
// space. Only where items
// touch (wait{min="2s"}) is a newline inserted. Bytes keep their offsets
// but for those insertions, and hcl1File maps every position back to the
// file as written. A form it does not know is left as it is, for the HCL 2
// parser to report.

// hcl1Blocks are the block types of a body, each with those of its own
// body; nil where the contents are not decoded (vault {}).
type hcl1Blocks map[string]hcl1Blocks

// fileBlocks is the block tree of a configuration file, from its schema.
var fileBlocks = blockTree(reflect.TypeFor[rawFile]())

// blockTree reads the block types of a gohcl schema struct.
func blockTree(t reflect.Type) hcl1Blocks {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	m := hcl1Blocks{}
	for i := range t.NumField() {
		f := t.Field(i)
		if name, kind, _ := strings.Cut(f.Tag.Get("hcl"), ","); kind == "block" {
			m[name] = blockTree(f.Type)
		}
	}
	return m
}

// hcl1File is a file that rewriteHCL1 changed: the file as written, and
// the offsets in the rewrite of the newlines it inserted.
type hcl1File struct {
	src      []byte
	inserted []int // ascending
}

// place moves r from the rewrite to the file as written.
func (f hcl1File) place(r *hcl.Range) {
	if r == nil {
		return
	}
	r.Start, r.End = f.pos(r.Start), f.pos(r.End)
}

func (f hcl1File) pos(p hcl.Pos) hcl.Pos {
	// An inserted newline stands where the byte after it was written.
	b := p.Byte - sort.SearchInts(f.inserted, p.Byte)
	b = min(max(b, 0), len(f.src))
	start := bytes.LastIndexByte(f.src[:b], '\n') + 1
	return hcl.Pos{Line: 1 + bytes.Count(f.src[:b], []byte("\n")), Column: 1 + utf8.RuneCount(f.src[start:b]), Byte: b}
}

// rewriteHCL1 returns src in HCL 2, and whether it changed anything.
func rewriteHCL1(src []byte, name string) ([]byte, hcl1File, bool) {
	toks, diags := hclsyntax.LexConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() || len(toks) == 0 {
		return src, hcl1File{}, false
	}
	w := &hcl1Walker{toks: toks, src: src}
	if !w.body(fileBlocks, true) || len(w.edits) == 0 {
		return src, hcl1File{}, false
	}
	// A newline inserted before a byte goes before the byte's replacement.
	slices.SortStableFunc(w.edits, func(a, b hcl1Edit) int {
		if a.off != b.off {
			return a.off - b.off
		}
		return btoi(b.insert) - btoi(a.insert)
	})
	out := make([]byte, 0, len(src)+len(w.edits))
	f := hcl1File{src: src}
	last := 0
	for _, e := range w.edits {
		out = append(out, src[last:e.off]...)
		last = e.off
		if e.insert {
			f.inserted = append(f.inserted, len(out))
		} else {
			last++ // the byte replaced
		}
		out = append(out, e.b)
	}
	out = append(out, src[last:]...)
	return out, f, true
}

// hcl1Edit puts b at off: in place of the byte there, or before it.
type hcl1Edit struct {
	off    int
	b      byte
	insert bool
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
