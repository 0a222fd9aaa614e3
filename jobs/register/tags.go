package register

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"

	docker "github.com/fsouza/go-dockerclient"
)

// Tag templates. registrator 7.4 runs its -tags flag (a block's tags here)
// as a Go template over the container's inspect data, go-dockerclient's
// Container, which drcon reads too; fayrus/registrator, its maintained
// fork, does the same with SERVICE_TAGS. drcon does both, with 7.4's
// functions and argument orders, so that their templates give the same
// tags. A missing map key prints "<no value>", as there. Not offered:
// httpGet, which makes an HTTP request on every registration, and
// jsonParse, which reads its answer.
var tagFuncs = template.FuncMap{
	"strSlice":          strSlice,
	"sIndex":            sIndex,
	"mIndex":            func(k string, m map[string]string) string { return m[k] },
	"toUpper":           strings.ToUpper,
	"toLower":           strings.ToLower,
	"replace":           func(n int, old, new, s string) string { return strings.Replace(s, old, new, n) },
	"join":              func(sep string, s []string) string { return strings.Join(s, sep) },
	"split":             func(sep, s string) []string { return strings.Split(s, sep) },
	"splitIndex":        func(i int, sep, s string) (string, error) { return sIndex(i, strings.Split(s, sep)) },
	"matchFirstElement": matchFirstElement,
	"matchAllElements":  matchAllElements,
	"httpGet":           notOffered("httpGet"),
	"jsonParse":         notOffered("jsonParse"),
}

// strSlice is s[i[0]:] or s[i[0]:i[1]] in bytes; s itself when an index is
// past its end, and s[i[0]:] when the end comes before the start, as in
// registrator.
func strSlice(s string, i ...int) (string, error) {
	for _, n := range i {
		if n < 0 {
			return "", fmt.Errorf("strSlice: negative index %d", n)
		}
	}
	switch {
	case len(i) == 1 && i[0] <= len(s):
		return s[i[0]:], nil
	case len(i) == 2 && i[0] <= len(s) && i[1] <= len(s):
		if i[1] < i[0] {
			return s[i[0]:], nil
		}
		return s[i[0]:i[1]], nil
	}
	return s, nil
}

// sIndex is s[i]; a negative i counts from the end, and an i past either
// end gives the element at that end, as in registrator.
func sIndex(i int, s []string) (string, error) {
	if len(s) == 0 {
		return "", fmt.Errorf("sIndex: empty list")
	}
	if i < 0 {
		if -i >= len(s) {
			return s[0], nil
		}
		return s[len(s)+i], nil
	}
	return s[min(i, len(s)-1)], nil
}

func matchFirstElement(expr string, s []string) (string, error) {
	all, err := matchElements(expr, s, 1)
	if len(all) == 0 {
		return "", err
	}
	return all[0], err
}

func matchAllElements(expr string, s []string) ([]string, error) {
	return matchElements(expr, s, -1)
}

// matchElements are the first n (all if n < 0) elements of s that expr
// matches.
func matchElements(expr string, s []string, n int) ([]string, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range s {
		if len(out) == n {
			break
		}
		if re.MatchString(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func notOffered(name string) func(...any) (string, error) {
	return func(...any) (string, error) {
		return "", fmt.Errorf("%s is not offered by drcon: registrations do not make HTTP requests", name)
	}
}

// parseTags parses a tags template, with registrator 7.4's functions.
func parseTags(s string) (*template.Template, error) {
	return template.New("tags").Funcs(tagFuncs).Parse(s)
}

// expandTags executes s as a template over c when it holds one; src names
// where s came from, for the warning. A template that fails is dropped. One
// that does not parse is dropped too, unless keepUnparsed: registrator 7.4
// read SERVICE_TAGS as plain text, so a value there that is no template is
// kept as written.
func expandTags(c *docker.Container, s, src string, keepUnparsed bool) (string, *warning) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	t, err := parseTags(s)
	if err != nil {
		if keepUnparsed {
			return s, &warning{src: src, msg: fmt.Sprintf("not a tags template (%v); kept as written", err)}
		}
		return "", &warning{src: src, msg: fmt.Sprintf("tags template dropped: %v", err)}
	}
	var b strings.Builder
	if err := t.Execute(&b, c); err != nil {
		return "", &warning{src: src, msg: fmt.Sprintf("tags template dropped: %v", err)}
	}
	return b.String(), nil
}

// serviceTags are the tags of a service: the container's SERVICE_TAGS, then
// the block's tags, then the port's protocol when not TCP.
func serviceTags(c *docker.Container, v view, blockTags []string, proto string) ([]string, []warning) {
	var warns []warning
	add := func(tags []string, s, src string, keepUnparsed bool) []string {
		out, w := expandTags(c, s, src, keepUnparsed)
		if w != nil {
			warns = append(warns, *w)
		}
		return append(tags, splitTags(out)...)
	}
	tags := add(nil, v.get("tags"), v["tags"].src, true)
	for _, t := range blockTags {
		tags = add(tags, t, "registrator tags", false)
	}
	if proto != "tcp" {
		tags = append(tags, proto)
	}
	return dedupe(tags), warns
}
