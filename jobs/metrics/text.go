package metrics

import (
	"bytes"
	"math"
	"strconv"
	"strings"
)

// header writes a family's HELP and TYPE lines.
func header(b *bytes.Buffer, name, help, kind string) {
	b.WriteString("# HELP ")
	b.WriteString(name)
	b.WriteByte(' ')
	helpEscaper.WriteString(b, help)
	b.WriteString("\n# TYPE ")
	b.WriteString(name)
	b.WriteByte(' ')
	b.WriteString(kind)
	b.WriteByte('\n')
}

// sample writes one line: name{labels} value. extra is one more label
// pair (a histogram's le) or empty.
func sample(b *bytes.Buffer, name string, labels, values []string, extraName, extraValue string, v float64) {
	b.WriteString(name)
	if len(labels) > 0 || extraName != "" {
		b.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				b.WriteByte(',')
			}
			pair(b, l, values[i])
		}
		if extraName != "" {
			if len(labels) > 0 {
				b.WriteByte(',')
			}
			pair(b, extraName, extraValue)
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(formatFloat(v))
	b.WriteByte('\n')
}

func pair(b *bytes.Buffer, name, value string) {
	b.WriteString(name)
	b.WriteString(`="`)
	valueEscaper.WriteString(b, value)
	b.WriteByte('"')
}

// The text format escapes a backslash and a newline in HELP, and also a
// double quote in a label value; anything else is written as it is (UTF-8).
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// formatFloat writes v as Prometheus' own writer does.
func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, +1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
