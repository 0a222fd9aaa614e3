package template

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// String helpers. Those that take the string last read well in a pipe:
// {{ key "k" | trimPrefix "x" }}.

func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("base64Decode: %w", err)
	}
	return string(b), nil
}

func base64Encode(s string) (string, error) {
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func base64URLDecode(s string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("base64URLDecode: %w", err)
	}
	return string(b), nil
}

func base64URLEncode(s string) (string, error) {
	return base64.URLEncoding.EncodeToString([]byte(s)), nil
}

func join(sep string, a []string) (string, error) { return strings.Join(a, sep), nil }

func trim(cutset, s string) (string, error) { return strings.Trim(s, cutset), nil }

func trimPrefix(prefix, s string) (string, error) { return strings.TrimPrefix(s, prefix), nil }

func trimSuffix(suffix, s string) (string, error) { return strings.TrimSuffix(s, suffix), nil }

func trimSpace(s string) (string, error) { return strings.TrimSpace(s), nil }

func toLower(s string) (string, error) { return strings.ToLower(s), nil }

func toUpper(s string) (string, error) { return strings.ToUpper(s), nil }

// toTitle upper-cases the first letter of each word and leaves the rest.
func toTitle(s string) (string, error) {
	return cases.Title(language.Und, cases.NoLower).String(s), nil
}

func replaceAll(from, to, s string) (string, error) { return strings.ReplaceAll(s, from, to), nil }

func regexReplaceAll(re, repl, s string) (string, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return "", err
	}
	return r.ReplaceAllString(s, repl), nil
}

func regexMatch(re, s string) (bool, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return false, err
	}
	return r.MatchString(s), nil
}

// split trims s first, and splits "" into no elements rather than one.
func split(sep, s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []string{}, nil
	}
	return strings.Split(s, sep), nil
}

// splitToMap splits s into items by sep1 and each item into key and value at
// its first sep2; items without sep2 are dropped.
func splitToMap(sep1, sep2, s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return map[string]string{}, nil
	}
	items := strings.Split(s, sep1)
	m := make(map[string]string, len(items))
	for _, item := range items {
		if k, v, ok := strings.Cut(item, sep2); ok {
			m[k] = v
		}
	}
	return m, nil
}

// indent prefixes every line of s that is not empty with n spaces.
func indent(n int, s string) (string, error) {
	if n < 0 {
		return "", fmt.Errorf("indent value must be a positive integer")
	}
	prefix := strings.Repeat(" ", n)
	var b strings.Builder
	b.Grow(len(s))
	startOfLine := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if startOfLine && c != '\n' {
			b.WriteString(prefix)
		}
		b.WriteByte(c)
		startOfLine = c == '\n'
	}
	return b.String(), nil
}

func sha256Hex(s string) (string, error) {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:]), nil
}

func md5sum(s string) (string, error) {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:]), nil
}

// hmacSHA256Hex is the hex HMAC-SHA256 of message under key.
func hmacSHA256Hex(message, key string) (string, error) {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(message))
	return hex.EncodeToString(h.Sum(nil)), nil
}
