package consul

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// lexer reads one JSON document in a single pass, for the decoders that
// replace encoding/json on the hot path (health_json.go). It accepts exactly
// what encoding/json accepts and gives the same values: strings unescaped
// alike (invalid UTF-8 and lone surrogates become U+FFFD), numbers checked
// against the JSON grammar before they are converted, object keys matched
// to field names as encoding/json does (exactly, else ignoring case).
type lexer struct {
	b []byte
	i int
}

var errEnd = errors.New("unexpected end of JSON input")

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", l.i, fmt.Sprintf(format, args...))
}

// peek skips white space and returns the next byte, or 0 at the end.
func (l *lexer) peek() byte {
	for l.i < len(l.b) {
		switch c := l.b[l.i]; c {
		case ' ', '\t', '\n', '\r':
			l.i++
		default:
			return c
		}
	}
	return 0
}

// end checks that nothing but white space follows the document.
func (l *lexer) end() error {
	if l.peek() != 0 || l.i < len(l.b) {
		return l.errorf("data after the top-level value")
	}
	return nil
}

// literal consumes the literal word (true, false, null) if it comes next.
func (l *lexer) literal(word string) bool {
	if l.peek() != word[0] || !bytes.HasPrefix(l.b[l.i:], []byte(word)) {
		return false
	}
	l.i += len(word)
	return true
}

// null consumes null if it comes next.
func (l *lexer) null() bool { return l.literal("null") }

// object reads an object, calling field with each key (unescaped) to read
// its value. The key is valid only during the call.
func (l *lexer) object(field func(key []byte) error) error {
	if l.peek() != '{' {
		return l.errorf("expected an object")
	}
	l.i++
	if l.peek() == '}' {
		l.i++
		return nil
	}
	for {
		key, err := l.key()
		if err != nil {
			return err
		}
		if l.peek() != ':' {
			return l.errorf("expected ':' after an object key")
		}
		l.i++
		if err := field(key); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.i++
		case '}':
			l.i++
			return nil
		default:
			return l.errorf("expected ',' or '}' in an object")
		}
	}
}

// array reads an array, calling elem to read each element.
func (l *lexer) array(elem func() error) error {
	if l.peek() != '[' {
		return l.errorf("expected an array")
	}
	l.i++
	if l.peek() == ']' {
		l.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch l.peek() {
		case ',':
			l.i++
		case ']':
			l.i++
			return nil
		default:
			return l.errorf("expected ',' or ']' in an array")
		}
	}
}

// skip reads and checks any value without keeping it.
func (l *lexer) skip() error {
	switch c := l.peek(); {
	case c == '{':
		return l.object(func([]byte) error { return l.skip() })
	case c == '[':
		return l.array(l.skip)
	case c == '"':
		_, err := l.string()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, err := l.number()
		return err
	case l.literal("true"), l.literal("false"), l.null():
		return nil
	case c == 0:
		return errEnd
	default:
		return l.errorf("unexpected %q", c)
	}
}

// raw returns the bytes of the next value, checked.
func (l *lexer) raw() ([]byte, error) {
	l.peek()
	start := l.i
	if err := l.skip(); err != nil {
		return nil, err
	}
	return l.b[start:l.i], nil
}

// number reads a number token, checked against the JSON grammar.
func (l *lexer) number() (string, error) {
	l.peek()
	start := l.i
	if l.i < len(l.b) && l.b[l.i] == '-' {
		l.i++
	}
	switch {
	case l.i < len(l.b) && l.b[l.i] == '0':
		l.i++
	case l.i < len(l.b) && l.b[l.i] >= '1' && l.b[l.i] <= '9':
		l.digits()
	default:
		return "", l.errorf("invalid number")
	}
	if l.i < len(l.b) && l.b[l.i] == '.' {
		l.i++
		if !l.digits() {
			return "", l.errorf("invalid number")
		}
	}
	if l.i < len(l.b) && (l.b[l.i] == 'e' || l.b[l.i] == 'E') {
		l.i++
		if l.i < len(l.b) && (l.b[l.i] == '+' || l.b[l.i] == '-') {
			l.i++
		}
		if !l.digits() {
			return "", l.errorf("invalid number")
		}
	}
	return string(l.b[start:l.i]), nil
}

func (l *lexer) digits() bool {
	start := l.i
	for l.i < len(l.b) && l.b[l.i] >= '0' && l.b[l.i] <= '9' {
		l.i++
	}
	return l.i > start
}

// int reads a number into *v as encoding/json does for an int field: null
// leaves it, a fraction or an exponent is an error.
func (l *lexer) int(v *int) error {
	if l.null() {
		return nil
	}
	n, err := l.intValue(strconv.IntSize)
	*v = int(n)
	return err
}

func (l *lexer) intValue(bits int) (int64, error) {
	if c := l.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, l.errorf("expected a number")
	}
	tok, err := l.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(tok, 10, bits)
	if err != nil {
		return 0, l.errorf("number %s does not fit an int", tok)
	}
	return n, nil
}

// uint64 reads a number into *v as encoding/json does for a uint64 field.
func (l *lexer) uint64(v *uint64) error {
	if l.null() {
		return nil
	}
	if c := l.peek(); c != '-' && (c < '0' || c > '9') {
		return l.errorf("expected a number")
	}
	tok, err := l.number()
	if err != nil {
		return err
	}
	if *v, err = strconv.ParseUint(tok, 10, 64); err != nil {
		return l.errorf("number %s does not fit a uint64", tok)
	}
	return nil
}

// str reads a string into *v; null leaves it.
func (l *lexer) str(v *string) error {
	if l.null() {
		return nil
	}
	s, err := l.string()
	*v = s
	return err
}

// strings reads an array of strings into *v: null sets nil, [] an empty
// slice, as encoding/json does.
func (l *lexer) strings(v *[]string) error {
	if l.null() {
		*v = nil
		return nil
	}
	out := []string{}
	err := l.array(func() error {
		var s string
		err := l.str(&s)
		out = append(out, s)
		return err
	})
	*v = out
	return err
}

// stringMap reads an object of strings into *m, adding to a map that is
// already there as encoding/json does; null sets nil.
func (l *lexer) stringMap(m *map[string]string) error {
	if l.null() {
		*m = nil
		return nil
	}
	if l.peek() != '{' {
		return l.errorf("expected an object")
	}
	if *m == nil {
		*m = map[string]string{}
	}
	return l.object(func(key []byte) error {
		var s string
		err := l.str(&s)
		(*m)[string(key)] = s
		return err
	})
}

// key reads an object key: a view of the input when it has no escapes,
// so that matching it to a field allocates nothing.
func (l *lexer) key() ([]byte, error) {
	if l.peek() == '"' {
	scan:
		for j := l.i + 1; j < len(l.b); j++ {
			switch c := l.b[j]; {
			case c == '"':
				k := l.b[l.i+1 : j]
				l.i = j + 1
				return k, nil
			case c == '\\' || c < ' ' || c >= utf8.RuneSelf:
				break scan // string unescapes and checks it
			}
		}
	}
	s, err := l.string()
	return []byte(s), err
}

// string reads a string token and unescapes it.
func (l *lexer) string() (string, error) {
	if l.peek() != '"' {
		if l.i >= len(l.b) {
			return "", errEnd
		}
		return "", l.errorf("expected a string")
	}
	l.i++
	start := l.i
	for l.i < len(l.b) {
		switch c := l.b[l.i]; {
		case c == '"':
			s := string(l.b[start:l.i])
			l.i++
			return s, nil
		case c == '\\' || c < ' ' || c >= utf8.RuneSelf:
			return l.slowString(start)
		}
		l.i++
	}
	return "", errEnd
}

// slowString finishes a string that has escapes, control characters or
// non-ASCII bytes, from its first byte at start.
func (l *lexer) slowString(start int) (string, error) {
	var sb strings.Builder
	sb.Write(l.b[start:l.i])
	for l.i < len(l.b) {
		c := l.b[l.i]
		switch {
		case c == '"':
			l.i++
			return sb.String(), nil
		case c < ' ':
			return "", l.errorf("control character in a string")
		case c == '\\':
			if err := l.escape(&sb); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
			l.i++
		default:
			r, size := utf8.DecodeRune(l.b[l.i:])
			sb.WriteRune(r) // RuneError for invalid UTF-8, as encoding/json
			l.i += size
		}
	}
	return "", errEnd
}

// escape decodes the escape sequence at l.i.
func (l *lexer) escape(sb *strings.Builder) error {
	if l.i+1 >= len(l.b) {
		return errEnd
	}
	c := l.b[l.i+1]
	l.i += 2
	switch c {
	case '"', '\\', '/':
		sb.WriteByte(c)
	case 'b':
		sb.WriteByte('\b')
	case 'f':
		sb.WriteByte('\f')
	case 'n':
		sb.WriteByte('\n')
	case 'r':
		sb.WriteByte('\r')
	case 't':
		sb.WriteByte('\t')
	case 'u':
		r, ok := l.hex4(l.i)
		if !ok {
			return l.errorf("invalid \\u escape")
		}
		l.i += 4
		if utf16.IsSurrogate(r) {
			// A pair is two escapes; anything else leaves a lone half.
			r2, ok := rune(-1), false
			if l.i+1 < len(l.b) && l.b[l.i] == '\\' && l.b[l.i+1] == 'u' {
				r2, ok = l.hex4(l.i + 2)
			}
			if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
				l.i += 6
				r = dec
			} else {
				r = utf8.RuneError
			}
		}
		sb.WriteRune(r)
	default:
		return l.errorf("invalid escape \\%c", c)
	}
	return nil
}

// hex4 reads the four hex digits at i.
func (l *lexer) hex4(i int) (rune, bool) {
	if i+4 > len(l.b) {
		return 0, false
	}
	var r rune
	for _, c := range l.b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// fieldName maps a JSON key to one of names as encoding/json maps keys to
// struct fields: the exact name, else the first that matches ignoring case
// (as bytes.EqualFold); "" when none does.
func fieldName(key []byte, names ...string) string {
	for _, n := range names {
		if string(key) == n {
			return n
		}
	}
	for _, n := range names {
		// A rune folds to at most three bytes (K, the Kelvin sign, to K).
		if len(key) >= len(n) && len(key) <= 3*len(n) && strings.EqualFold(string(key), n) {
			return n
		}
	}
	return ""
}
