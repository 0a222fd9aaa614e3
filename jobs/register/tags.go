package register

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	docker "github.com/fsouza/go-dockerclient"
)

// Tags may be Go templates over the container's inspect data, as
// registrator 7.4 reads SERVICE_TAGS and -tags: `{{ .Config.Hostname }}`,
// `{{ index .Config.Labels "team" }}`. The data is go-dockerclient's
// Container, registrator's own type, so its templates work unchanged. The
// functions are docker inspect --format's, plus registrator's toUpper and
// toLower. A template that fails is logged with its source and dropped;
// registrator exited on it.
var tagFuncs = template.FuncMap{
	"join":    func(list []string, sep string) string { return strings.Join(list, sep) },
	"split":   strings.Split,
	"lower":   strings.ToLower,
	"upper":   strings.ToUpper,
	"toLower": strings.ToLower,
	"toUpper": strings.ToUpper,
	"title":   titleCase,
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// titleCase upper-cases the first letter of each word, as docker's title.
func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// expandTags executes s as a template over c when it holds one; src names
// where s came from, for the warning.
func expandTags(c *docker.Container, s, src string) (string, *warning) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	t, err := template.New("tags").Funcs(tagFuncs).Option("missingkey=zero").Parse(s)
	if err != nil {
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
	add := func(tags []string, s, src string) []string {
		out, w := expandTags(c, s, src)
		if w != nil {
			warns = append(warns, *w)
		}
		return append(tags, splitTags(out)...)
	}
	tags := add(nil, v.get("tags"), v["tags"].src)
	for _, t := range blockTags {
		tags = add(tags, t, "registrator tags")
	}
	if proto != "tcp" {
		tags = append(tags, proto)
	}
	return dedupe(tags), warns
}
