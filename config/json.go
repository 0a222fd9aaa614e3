package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// consul-template's HCL 1 parser also read JSON configurations. drcon reads
// them by rewriting them as HCL native syntax and loading that as any other
// file, so that they get the same checks and aliases: an object is a block,
// an array of objects repeated blocks (consul-template's "template": [...]
// are its unlabeled template blocks), anything else an argument. Each key
// keeps its line, so that diagnostics name the JSON file's lines. Strings
// stay literal, as HCL 1 kept them (${ and %{ are escaped), and a numeric
// perms is the decimal number JSON wrote.

// jsonToHCL rewrites a JSON configuration as HCL native syntax; lines[i]
// is the JSON line that the rewrite's line i+1 comes from.
func jsonToHCL(data []byte) (out []byte, lines []int, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := &jsonWriter{src: data, dec: dec, line: 1}
	if err := w.rewrite(); err != nil {
		return nil, nil, err
	}
	return w.out.Bytes(), w.lines, nil
}

func (w *jsonWriter) rewrite() error {
	dec := w.dec
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return w.fail(err, "a JSON configuration is one object")
	}
	if err := w.object(0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return w.fail(err, "text after the configuration object")
	}
	return nil
}

// maxJSONDepth bounds nesting: no configuration nests more than a few
// blocks, and recursion must not follow a hostile file down.
const maxJSONDepth = 16

type jsonWriter struct {
	src   []byte
	dec   *json.Decoder
	out   bytes.Buffer
	line  int   // the output's current line
	lines []int // the JSON line of each output line ended so far
}

// fail is a rewriting error with the line it was found on.
func (w *jsonWriter) fail(err error, what string) error {
	var se *json.SyntaxError
	off := w.dec.InputOffset()
	if errors.As(err, &se) {
		off = se.Offset
	}
	msg := what
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		msg = "the file ends inside the configuration"
	case err != nil:
		msg = err.Error()
	}
	return fmt.Errorf("line %d: %s", w.lineAt(off), msg)
}

func (w *jsonWriter) lineAt(off int64) int {
	return 1 + bytes.Count(w.src[:min(int(off), len(w.src))], []byte("\n"))
}

// toLine moves the output down to the JSON's current line, if it is
// behind: keys keep their lines unless a compact object took more lines.
func (w *jsonWriter) toLine() {
	for l := w.lineAt(w.dec.InputOffset()); w.line < l; w.line++ {
		w.lines = append(w.lines, w.line)
		w.out.WriteByte('\n')
	}
}

// object writes the members of an object whose "{" was read, up to its "}".
func (w *jsonWriter) object(depth int) error {
	if depth > maxJSONDepth {
		return w.fail(nil, "nested too deep")
	}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.fail(err, "")
		}
		key := tok.(string) // object keys are strings
		if !hclsyntax.ValidIdentifier(key) {
			return w.fail(nil, fmt.Sprintf("%q is not a configuration key", key))
		}
		w.toLine()
		if err := w.member(key, depth); err != nil {
			return err
		}
	}
	_, err := w.dec.Token() // "}"
	return err
}

// member writes key with its value: a block, blocks or an argument.
func (w *jsonWriter) member(key string, depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return w.fail(err, "")
	}
	switch tok {
	case json.Delim('{'):
		return w.block(key, depth)
	case json.Delim('['):
		return w.array(key, depth)
	}
	w.out.WriteString(key + " = ")
	if err := w.scalar(key, tok); err != nil {
		return err
	}
	w.newline()
	return nil
}

// newline ends an argument or a block's line; HCL wants each on its own.
func (w *jsonWriter) newline() {
	w.lines = append(w.lines, w.lineAt(w.dec.InputOffset()))
	w.out.WriteByte('\n')
	w.line++
}

// jsonFile is a JSON configuration and the line map of its rewrite.
type jsonFile struct {
	src   []byte
	lines []int
}

// place moves a range in the rewrite to the whole JSON line it comes from.
func (f jsonFile) place(r *hcl.Range) {
	if r == nil {
		return
	}
	line := r.Start.Line
	if line > len(f.lines) {
		line = len(f.lines)
	}
	if line >= 1 {
		line = f.lines[line-1]
	} else {
		line = 1
	}
	start := 0
	for i := 1; i < line; i++ {
		start += bytes.IndexByte(f.src[start:], '\n') + 1
	}
	end := start + max(bytes.IndexByte(f.src[start:], '\n'), 0)
	if bytes.IndexByte(f.src[start:], '\n') < 0 {
		end = len(f.src)
	}
	*r = hcl.Range{Filename: r.Filename, Start: hcl.Pos{Line: line, Column: 1, Byte: start},
		End: hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(f.src[start:end]), Byte: end}}
}

func (w *jsonWriter) block(key string, depth int) error {
	w.out.WriteString(key + " {")
	w.newline()
	if err := w.object(depth + 1); err != nil {
		return err
	}
	w.out.WriteString("}")
	w.newline()
	return nil
}

// array writes an array of objects as blocks, and one of plain values as a
// list argument.
func (w *jsonWriter) array(key string, depth int) error {
	var list []string
	blocks := 0
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return w.fail(err, "")
		}
		switch {
		case tok == json.Delim('{') && list == nil:
			blocks++
			if err := w.block(key, depth); err != nil {
				return err
			}
		case tok == json.Delim('{') || tok == json.Delim('[') || blocks > 0:
			return w.fail(nil, fmt.Sprintf("%s mixes objects with other values", key))
		default:
			var b bytes.Buffer
			if err := scalarHCL(&b, key, tok); err != nil {
				return w.fail(nil, err.Error())
			}
			list = append(list, b.String())
		}
	}
	if _, err := w.dec.Token(); err != nil { // "]"
		return w.fail(err, "")
	}
	if blocks == 0 {
		w.out.WriteString(key + " = [" + strings.Join(list, ", ") + "]")
		w.newline()
	}
	return nil
}

func (w *jsonWriter) scalar(key string, tok json.Token) error {
	if err := scalarHCL(&w.out, key, tok); err != nil {
		return w.fail(nil, err.Error())
	}
	return nil
}

// scalarHCL writes a JSON string, number, boolean or null as HCL.
func scalarHCL(b *bytes.Buffer, key string, tok json.Token) error {
	switch v := tok.(type) {
	case string:
		quoteHCL(b, v)
	case json.Number:
		if key == "perms" {
			// JSON has no octal: 420 is the mode 0644, as consul-template
			// reads it; drcon reads a number's digits as octal.
			n, err := v.Int64()
			if err != nil || n < 0 || n > 0o7777 {
				return fmt.Errorf("perms %s is not a file mode", v)
			}
			fmt.Fprintf(b, "\"%04o\"", n)
			return nil
		}
		b.WriteString(v.String())
	case bool:
		fmt.Fprint(b, v)
	case nil:
		b.WriteString("null")
	}
	return nil
}

// quoteHCL writes s as an HCL quoted string that means s literally.
func quoteHCL(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == utf8.RuneError:
			fmt.Fprintf(b, `\u%04x`, r)
		case (r == '$' || r == '%') && strings.HasPrefix(s[i+1:], "{"):
			b.WriteRune(r) // $${ and %%{ are a literal ${ and %{
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
