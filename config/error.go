package config

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Error is a configuration that could not be loaded. Diagnostics holds every
// problem found (and any warnings); Files holds the parsed files so that each
// diagnostic can be shown with its source snippet.
type Error struct {
	Diagnostics hcl.Diagnostics
	Files       map[string]*hcl.File
}

// Error renders every diagnostic without color.
func (e *Error) Error() string {
	var b strings.Builder
	if _, err := e.WriteTo(&b, false); err != nil {
		return err.Error()
	}
	return strings.TrimRight(b.String(), "\n")
}

// WriteTo renders every diagnostic to w: a "file:line:col:" prefix that
// editors can jump to, then hcl's text rendering with summary, snippet and
// detail. color adds ANSI colors for a terminal. It returns the number of
// bytes written.
func (e *Error) WriteTo(w io.Writer, color bool) (int64, error) {
	return writeDiagnostics(w, e.Files, e.Diagnostics, color)
}

// WriteWarnings renders c.Warnings to w as Error.WriteTo does.
func (c *Config) WriteWarnings(w io.Writer, color bool) (int64, error) {
	return writeDiagnostics(w, c.files, c.Warnings, color)
}

func writeDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, color bool) (int64, error) {
	cw := &countingWriter{w: w}
	dw := hcl.NewDiagnosticTextWriter(cw, files, 0, color)
	for _, d := range diags {
		if d.Subject != nil {
			s := d.Subject.Start
			if _, err := fmt.Fprintf(cw, "%s:%d:%d: ", d.Subject.Filename, s.Line, s.Column); err != nil {
				return cw.n, fmt.Errorf("write diagnostics: %w", err)
			}
		}
		if err := dw.WriteDiagnostic(d); err != nil {
			return cw.n, fmt.Errorf("write diagnostics: %w", err)
		}
	}
	return cw.n, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// sortDiagnostics orders diagnostics by file (in load order) and position, so
// that output is stable and reads top to bottom; those without a position
// (flags, environment) come last in the order they were found.
func sortDiagnostics(diags hcl.Diagnostics, order map[string]int) {
	key := func(d *hcl.Diagnostic) (int, int) {
		if d.Subject == nil {
			return len(order) + 1, 0
		}
		i, ok := order[d.Subject.Filename]
		if !ok {
			i = len(order)
		}
		return i, d.Subject.Start.Byte
	}
	sort.SliceStable(diags, func(a, b int) bool {
		fa, ba := key(diags[a])
		fb, bb := key(diags[b])
		if fa != fb {
			return fa < fb
		}
		return ba < bb
	})
}

// pos renders where r starts as file:line:col, for details that point at a
// second place.
func pos(r hcl.Range) string {
	if r.Filename == "" {
		return "a -template flag"
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}
