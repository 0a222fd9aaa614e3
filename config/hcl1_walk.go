package config

import (
	"bytes"
	"slices"

	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// hcl1Walker reads the tokens of a file as HCL 1 bodies, and collects the
// edits that make them HCL 2.
type hcl1Walker struct {
	toks  hclsyntax.Tokens
	i     int
	src   []byte
	edits []hcl1Edit
}

// hcl1Gap is what stands before an item of a body, or before its closing
// brace: after the opening brace or the previous item (token index prev).
type hcl1Gap struct {
	prev    int
	next    int  // the token after the gap
	newline bool // a newline, or a line comment, is in it
	comma   int  // the comma in it; -1 if none
}

// body reads the items of a body, from after its opening brace (the file's
// start at top level) to its closing brace, which it leaves unread (EOF at
// top level). It reports false on anything it does not know.
func (w *hcl1Walker) body(blocks hcl1Blocks, top bool) bool {
	var gaps []hcl1Gap
	gap := hcl1Gap{prev: w.i - 1, newline: top, comma: -1}
	attrs, others := 0, 0
	for {
		t := w.toks[w.i]
		switch t.Type {
		case hclsyntax.TokenNewline:
			gap.newline = true
		case hclsyntax.TokenComment:
			gap.newline = gap.newline || bytes.HasSuffix(t.Bytes, []byte("\n"))
		case hclsyntax.TokenComma:
			if gap.comma >= 0 || len(gaps) == 0 {
				return false // two commas, or one before any item
			}
			gap.comma = w.i
		case hclsyntax.TokenCBrace, hclsyntax.TokenEOF:
			if (t.Type == hclsyntax.TokenEOF) != top {
				return false
			}
			gap.next = w.i
			if len(gaps) > 0 {
				w.separate(append(gaps, gap), top, attrs == 1 && others == 0)
			}
			return true
		case hclsyntax.TokenIdent, hclsyntax.TokenOQuote:
			gap.next = w.i
			gaps = append(gaps, gap)
			name, ok := w.name()
			if !ok {
				return false
			}
			block, ok := w.item(blocks, name)
			if !ok {
				return false
			}
			if block {
				others++
			} else {
				attrs++
			}
			gap = hcl1Gap{prev: w.i - 1, comma: -1}
			continue
		default:
			return false
		}
		w.i++
	}
}

// separate edits the gaps of a body (before each item and before its end)
// so that HCL 2 reads it: each item on a line of its own, no commas. A body
// that HCL 2 reads already is left alone.
func (w *hcl1Walker) separate(gaps []hcl1Gap, top, oneAttr bool) {
	first, last := gaps[0], gaps[len(gaps)-1]
	lined := !slices.ContainsFunc(gaps[1:len(gaps)-1], func(g hcl1Gap) bool { return !g.newline })
	commas := slices.ContainsFunc(gaps, func(g hcl1Gap) bool { return g.comma >= 0 })
	switch {
	case commas:
	case top && lined, !top && first.newline && lined && last.newline:
		return
	case !top && !first.newline && !last.newline && oneAttr:
		return // wait { min = "2s" }
	}
	for i, g := range gaps {
		if top && i == 0 {
			continue // the file's start
		}
		if top && i == len(gaps)-1 {
			if g.comma >= 0 {
				w.edits = append(w.edits, hcl1Edit{off: w.toks[g.comma].Range.Start.Byte, b: ' '})
			}
			continue // the file's end needs no newline
		}
		w.newline(g)
	}
}

// newline puts a newline in gap g unless one is there, and removes its
// comma.
func (w *hcl1Walker) newline(g hcl1Gap) {
	switch {
	case g.comma >= 0 && !g.newline:
		w.edits = append(w.edits, hcl1Edit{off: w.toks[g.comma].Range.Start.Byte, b: '\n'})
	case g.comma >= 0:
		w.edits = append(w.edits, hcl1Edit{off: w.toks[g.comma].Range.Start.Byte, b: ' '})
	case !g.newline:
		from, to := w.toks[g.prev].Range.End.Byte, w.toks[g.next].Range.Start.Byte
		if i := bytes.IndexAny(w.src[from:to], " \t"); i >= 0 {
			w.edits = append(w.edits, hcl1Edit{off: from + i, b: '\n'})
		} else {
			w.edits = append(w.edits, hcl1Edit{off: to, b: '\n', insert: true})
		}
	}
}

// name reads an item's name: a name, or a name in quotes ("destination" =
// "..."), which HCL 1 takes too and whose quotes become spaces.
func (w *hcl1Walker) name() ([]byte, bool) {
	t := w.toks[w.i]
	if t.Type == hclsyntax.TokenIdent {
		w.i++
		return t.Bytes, true
	}
	if w.i+2 >= len(w.toks) {
		return nil, false
	}
	lit, closing := w.toks[w.i+1], w.toks[w.i+2]
	if lit.Type != hclsyntax.TokenQuotedLit || closing.Type != hclsyntax.TokenCQuote || !hclsyntax.ValidIdentifier(string(lit.Bytes)) {
		return nil, false
	}
	w.edits = append(w.edits, hcl1Edit{off: t.Range.Start.Byte, b: ' '}, hcl1Edit{off: closing.Range.Start.Byte, b: ' '})
	w.i += 3
	return lit.Bytes, true
}

// item reads one item of a body: an argument or a block. It reports
// whether the item is a block, and false on anything it does not know.
func (w *hcl1Walker) item(blocks hcl1Blocks, name []byte) (block, ok bool) {
	if w.toks[w.i].Type == hclsyntax.TokenEqual {
		eq := w.i
		w.i++
		if inner, isBlock := blocks[string(name)]; isBlock && w.toks[w.i].Type == hclsyntax.TokenOBrace {
			// consul = { ... }: HCL 1 reads it as the block.
			mark, at := len(w.edits), w.i
			w.edits = append(w.edits, hcl1Edit{off: w.toks[eq].Range.Start.Byte, b: ' '})
			w.i++
			if w.body(inner, false) {
				w.i++ // the closing brace
				return true, true
			}
			w.edits, w.i = w.edits[:mark], at
		}
		return false, w.expression()
	}
labels:
	for {
		switch w.toks[w.i].Type {
		case hclsyntax.TokenIdent:
			w.i++
		case hclsyntax.TokenOQuote:
			if !w.balanced() {
				return false, false
			}
		default:
			break labels
		}
	}
	if w.toks[w.i].Type != hclsyntax.TokenOBrace {
		return false, false
	}
	open := w.i
	w.i++
	mark := len(w.edits)
	if !w.body(blocks[string(name)], false) {
		// Leave this block as written, for the parser to judge.
		w.edits, w.i = w.edits[:mark], open
		return true, w.balanced()
	}
	w.i++ // the closing brace
	return true, true
}

// expression reads an argument's value: up to a newline, a comma or a
// closing brace outside brackets, or up to a name, quoted or not, that
// follows a whole operand (min = "2s" max = "10s").
func (w *hcl1Walker) expression() bool {
	start := w.i
	for {
		t := w.toks[w.i]
		switch t.Type {
		case hclsyntax.TokenNewline, hclsyntax.TokenComment, hclsyntax.TokenComma,
			hclsyntax.TokenCBrace, hclsyntax.TokenEOF:
			return w.i > start
		case hclsyntax.TokenIdent, hclsyntax.TokenOQuote: // a name, quoted or not
			if w.i > start && operandEnd(w.toks[w.i-1].Type) {
				return true
			}
		}
		if opens(t.Type) {
			if !w.balanced() {
				return false
			}
			continue
		}
		if closes(t.Type) {
			return false
		}
		w.i++
	}
}

// balanced reads from an opening token to its closing one, whatever is
// between.
func (w *hcl1Walker) balanced() bool {
	depth := 0
	for ; w.i < len(w.toks); w.i++ {
		switch ty := w.toks[w.i].Type; {
		case ty == hclsyntax.TokenEOF:
			return false
		case opens(ty):
			depth++
		case closes(ty):
			depth--
			if depth == 0 {
				w.i++
				return true
			}
		}
	}
	return false
}

func opens(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
		hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
		return true
	}
	return false
}

func closes(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
		hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
		return true
	}
	return false
}

// operandEnd reports whether a token can end an operand, after which a
// name starts the next item rather than continuing the expression.
func operandEnd(t hclsyntax.TokenType) bool {
	switch t {
	case hclsyntax.TokenCQuote, hclsyntax.TokenNumberLit, hclsyntax.TokenIdent, hclsyntax.TokenCBrack,
		hclsyntax.TokenCParen, hclsyntax.TokenCBrace, hclsyntax.TokenCHeredoc:
		return true
	}
	return false
}
