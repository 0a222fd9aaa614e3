package compat

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// writeMatrix writes the matrix corpus into dir: templates generated as
// products of argument kinds, where hand-written cases sample few points.
// Math over every pair of value types (int, negative, float, uint, numeric
// and other strings, bool), serialisation and string helpers over odd
// inputs, and service query strings over tags, datacenters, near and
// filters. Each is a point where drcon's code, not a shared library, decides
// the output.
func writeMatrix(t *testing.T, dir string) {
	t.Helper()
	n := 0
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name+".ctmpl"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	matrixMath(write)
	matrixValues(write)
	matrixQueries(write)
	t.Logf("matrix corpus: %d templates", n)
}

func matrixMath(write func(name, body string)) {
	vals := [][2]string{{"i3", "3"}, {"in2", "-2"}, {"f15", "1.5"}, {"f0", "0.0"}, {"i0", "0"},
		{"u7", `(parseUint "7")`}, {"u0", `(parseUint "0")`}, {"s4", `"4"`}, {"sx", `"x"`}, {"bt", "true"},
		{"imax", "9223372036854775807"}, {"fneg", "-2.5"}}
	for _, f := range []string{"add", "subtract", "multiply", "divide", "modulo", "minimum", "maximum"} {
		for _, a := range vals {
			for _, b := range vals {
				write(fmt.Sprintf("math_%s_%s_%s", f, a[0], b[0]),
					fmt.Sprintf("{{ %s %s %s }}|{{ printf \"%%T\" (%s %s %s) }}\n", f, a[1], b[1], f, a[1], b[1]))
			}
		}
		write("math_pipe_"+f, fmt.Sprintf("{{ 10 | %s 3 }} {{ 3 | %s 10 }}\n", f, f))
	}
}

func matrixValues(write func(name, body string)) {
	jsons := []string{`{}`, `[]`, `null`, `1`, `1e21`, `123456789012`, `0.1`, `-0`, `"s"`, `true`,
		`{"a":{"b":[1,2.5,"x",null,true]}}`, `[{"k":1},{"k":"2"}]`, `{"z":1,"a":2,"m":{"y":1,"b":2}}`,
		`{"u":"\u00e9\n\t<>&"}`, `[1,[2,[3]]]`, `{"big":18446744073709551615}`, `{"f":1.0}`, `{"e":1E-7}`,
		`{"s":"it's"}`, `not json`, ``}
	for i, j := range jsons {
		lit := quote(j)
		for _, f := range []string{"toJSON", "toJSONPretty", "toUnescapedJSON", "toUnescapedJSONPretty", "toYAML", "toTOML"} {
			write(fmt.Sprintf("json%02d_%s", i, f), fmt.Sprintf("{{ %s | parseJSON | %s }}\n", lit, f))
		}
		write(fmt.Sprintf("json%02d_print", i), fmt.Sprintf("{{ %s | parseJSON }}|{{ printf \"%%#v\" (%s | parseJSON) }}\n", lit, lit))
	}
	yamls := []string{"a: 1", "a: yes", "a: 2001-12-14", "a: 1.0", "a: 0x1F", "a: ~", "- 1\n- two",
		"a:\n  b: [1, 2]\n  c: {d: e}", `a: "1"`, `"key with space": v`, "a: !!str 12", "a: 010", "a: .inf",
		"a: 1e3", "? [1,2]\n: x", "a: &x 1\nb: *x", "", "a: |\n  multi\n  line\n"}
	for i, y := range yamls {
		lit := quote(y)
		for _, f := range []string{"toJSON", "toYAML", "toTOML"} {
			write(fmt.Sprintf("yaml%02d_%s", i, f), fmt.Sprintf("{{ %s | parseYAML | %s }}\n", lit, f))
		}
		write(fmt.Sprintf("yaml%02d_print", i), fmt.Sprintf("{{ %s | parseYAML }}\n", lit))
	}
	strs := []string{``, ` `, `a`, `a,b,,c`, `,a,`, `é ß ǅ`, `hello world foo_bar`, "  tab\tnl\n  ", `ÀB`,
		`x=1,y=2`, `a:b,c`, `the quick-brown fox`, `ǈ`}
	seps := [][2]string{{"comma", `","`}, {"empty", `""`}, {"space", `" "`}}
	for i, s := range strs {
		lit := quote(s)
		for _, f := range []string{"toTitle", "toUpper", "toLower", "trimSpace", "base64Encode", "base64URLEncode",
			"sha256Hex", "md5sum", "sprig_title", "sprig_camelcase", "sprig_snakecase", "sprig_kebabcase",
			"sprig_swapcase", "sprig_initials", "sprig_untitle", "sprig_nospace", "sprig_quote", "sprig_squote"} {
			write(fmt.Sprintf("str%02d_%s", i, f), fmt.Sprintf("[{{ %s | %s }}]\n", lit, f))
		}
		for _, sep := range seps {
			write(fmt.Sprintf("str%02d_split_%s", i, sep[0]),
				fmt.Sprintf("{{ range split %s %s }}[{{ . }}]{{ end }}|{{ split %s %s | len }}\n", sep[1], lit, sep[1], lit))
			write(fmt.Sprintf("str%02d_join_%s", i, sep[0]), fmt.Sprintf("{{ split \",\" %s | join %s }}\n", lit, sep[1]))
			write(fmt.Sprintf("str%02d_splitToMap_%s", i, sep[0]), fmt.Sprintf("{{ splitToMap %s \"=\" %s }}\n", sep[1], lit))
		}
		write(fmt.Sprintf("str%02d_indent", i), fmt.Sprintf("{{ indent 2 %s }}|{{ indent 0 %s }}\n", lit, lit))
		write(fmt.Sprintf("str%02d_replace", i), fmt.Sprintf(
			"{{ replaceAll \"a\" \"<>\" %s }}|{{ regexReplaceAll \"(.)\" \"$1$1\" %s }}|{{ regexMatch \"^a\" %s }}\n", lit, lit, lit))
		write(fmt.Sprintf("str%02d_trims", i), fmt.Sprintf(
			"[{{ trim \" a\" %s }}][{{ trimPrefix \"a\" %s }}][{{ trimSuffix \"c\" %s }}]\n", lit, lit, lit))
		write(fmt.Sprintf("str%02d_parseBool", i), fmt.Sprintf("{{ parseBool %s }}\n", lit))
		write(fmt.Sprintf("str%02d_parseNumbers", i), fmt.Sprintf("{{ parseInt %s }}|{{ parseFloat %s }}|{{ parseUint %s }}\n", lit, lit, lit))
	}
}

// matrixQueries covers service query strings: every service of the seed
// under each filter, and a fixed stride through the product of tags,
// datacenters, near and filters.
func matrixQueries(write func(name, body string)) {
	svcs := []string{"web", "api", "db", "cache", "pay", "v6", "tagover", "shared", "Odd-Svc", "nocheck", "checked",
		"nope", "pay-sidecar-proxy", "mesh-gateway", "consul"}
	tags := []string{"", "prod.", "v1.", "redis.", "nope.", "http.", "a.", "canary."}
	dcs := []string{"", "@dc1"}
	nears := []string{"", "~_agent", "~node-a", "~node-e"}
	filters := []string{"", "|any", "|passing", "|warning", "|critical", "|passing,warning", "|maintenance", "|any,passing"}
	const body = "{{ range service %s }}{{ .ID }}@{{ .Node }}/{{ .Address }}:{{ .Port }} {{ .Status }} {{ .Tags }} {{ .ServiceMeta }};{{ end }}\n"
	i := 0
	for _, s := range svcs {
		for _, t := range tags {
			for _, d := range dcs {
				for _, n := range nears {
					for _, f := range filters {
						// Every filter for each service; the rest by a stride
						// co-prime with the inner sizes, about 300 in all.
						if (t == "" && d == "" && n == "") || i%23 == 0 {
							write(fmt.Sprintf("query%04d", i), fmt.Sprintf(body, quote(t+s+d+n+f)))
						}
						i++
					}
				}
			}
		}
	}
	for i, s := range svcs[:8] {
		for j, f := range []string{"any", "passing", "warning", "critical", "maintenance", "passing,warning", "bogus"} {
			write(fmt.Sprintf("query_arg%02d_%d", i, j), fmt.Sprintf("{{ range service %s %s }}{{ .ID }} {{ .Status }};{{ end }}\n", quote(s), quote(f)))
		}
	}
	for i, s := range svcs[:9] {
		for j, n := range []string{"", "~node-a"} {
			write(fmt.Sprintf("query_connect%02d_%d", i, j), fmt.Sprintf("{{ range connect %s }}{{ .ID }}@{{ .Node }}:{{ .Port }} {{ .Status }};{{ end }}\n", quote(s+n)))
		}
	}
	prefixes := []string{"app", "app/", "app/config", "app/config/", "app/folder", "app/folder/", "/app/folder",
		"app//folder", "nope", "nope/", "", "/", "conflict", "conflict/", "bytes", "flags"}
	for i, p := range prefixes {
		for _, f := range []string{"ls", "safeLs", "tree", "safeTree"} {
			write(fmt.Sprintf("kv_%s%02d", f, i), fmt.Sprintf("{{ range %s %s }}[{{ .Key }}={{ .Value }}|{{ .Path }}]{{ end }}\n", f, quote(p)))
		}
	}
	keys := []string{"app/config/name", "app/config/empty", "app/folder/", "app/folder", "app/config",
		"/app/config/name", "app//config/name", "flags/answer", "conflict/x", "conflict/x/", "nope", "app/config/name@dc1"}
	for i, k := range keys {
		write(fmt.Sprintf("kv_key%02d", i), fmt.Sprintf("{{ keyExists %s }}|{{ keyOrDefault %s \"dflt\" }}\n", quote(k), quote(k)))
	}
}

// quote is s as a template string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
