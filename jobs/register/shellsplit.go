package register

import (
	"errors"
	"strings"
)

// shellSplit splits a command line into argv the way a POSIX shell does
// for words, without expanding anything: blanks separate words, '...'
// keeps everything literally, "..." keeps everything but \" \\ \$ and \`,
// and a backslash outside quotes keeps the next character. Registrator
// passed SERVICE_CHECK_SCRIPT as a single argv element (#687).
func shellSplit(s string) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		inQuote byte // 0, '\'' or '"'
	)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case inQuote == '\'':
			if ch == '\'' {
				inQuote = 0
			} else {
				cur.WriteByte(ch)
			}
		case inQuote == '"':
			switch {
			case ch == '"':
				inQuote = 0
			case ch == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(ch)
			}
		case ch == '\'' || ch == '"':
			inQuote, inWord = ch, true
		case ch == '\\':
			if i+1 == len(s) {
				return nil, errors.New("ends with a backslash")
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inQuote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
