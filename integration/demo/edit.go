package demo

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// An Edit changes the drcon configuration of a stack beyond paths and
// ports, for what a test or a benchmark measures: containers of this run
// only, quiescence off, or no template jobs.
type Edit func(*hclwrite.Body)

// OnlyLabeled makes every registrator block register only the containers
// with the label, so that a test's drcon ignores the containers of the
// tests that share the Docker engine.
func OnlyLabeled(label, value string) Edit {
	return func(b *hclwrite.Body) {
		for _, blk := range b.Blocks() {
			if blk.Type() != "registrator" {
				continue
			}
			body := blk.Body()
			// A block written on one line, `registrator "docker" {}`, needs
			// a line break before an attribute can go in.
			if len(body.Attributes()) == 0 && len(body.Blocks()) == 0 {
				body.Clear()
				body.AppendNewline()
			}
			body.SetAttributeValue("filter", cty.ObjectVal(map[string]cty.Value{label: cty.StringVal(value)}))
		}
	}
}

// NoWait turns quiescence off: templates render as soon as data changes.
func NoWait() Edit {
	return func(b *hclwrite.Body) {
		b.RemoveAttribute("wait")
		for _, blk := range b.Blocks() {
			switch blk.Type() {
			case "wait":
				b.RemoveBlock(blk)
			case "template":
				blk.Body().RemoveAttribute("wait")
				for _, w := range blk.Body().Blocks() {
					if w.Type() == "wait" {
						blk.Body().RemoveBlock(w)
					}
				}
			}
		}
	}
}

// NoTemplates removes the template jobs, leaving drcon to register
// containers only (the benchmark's consul-template chain renders instead).
func NoTemplates() Edit {
	return func(b *hclwrite.Body) {
		for _, blk := range b.Blocks() {
			if blk.Type() == "template" {
				b.RemoveBlock(blk)
			}
		}
	}
}

// applyEdits parses an HCL configuration, applies the edits and formats it.
func applyEdits(src []byte, name string, edits []Edit) ([]byte, error) {
	if len(edits) == 0 {
		return src, nil
	}
	f, diags := hclwrite.ParseConfig(src, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("parse %s: %w", name, diags)
	}
	for _, e := range edits {
		e(f.Body())
	}
	return hclwrite.Format(f.Bytes()), nil
}
