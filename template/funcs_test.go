package template

import (
	"strings"
	"testing"

	"github.com/drcon/drcon/template/dep"
)

// Table tests of the helpers without Consul data. The golden corpus checks
// the same functions against consul-template's bytes; these pin edge cases
// and failures one line each.
func TestHelpers(t *testing.T) {
	kp := func(key, value string) *dep.KeyPair { return &dep.KeyPair{Path: "p/" + key, Key: key, Value: value} }
	p := must(dep.ParseKVList("p"))
	web := must(dep.ParseHealthService(dep.KindHealthService, "web"))
	s := memStore{
		p: []*dep.KeyPair{kp("a/x", "1"), kp("a/y", "2"), kp("b", "3"), kp("c/d/e", "4")},
		web: []*dep.HealthService{
			{ID: "w1", Port: 80, Tags: dep.ServiceTags{"a", "b"}, ServiceMeta: map[string]string{"v": "2", "zone": "eu/1"}},
			{ID: "w2", Port: 81, Tags: dep.ServiceTags{"b"}, ServiceMeta: map[string]string{"v": "10"}},
			{ID: "w3", Port: 80},
		},
	}
	tests := []struct{ text, want, err string }{
		// encodings and hashes
		{`{{ base64Encode "hi" }} {{ base64Decode "aGk=" }} {{ base64URLEncode "??>" }} {{ base64URLDecode "Pz8-" }}`, "aGk= hi Pz8- ??>", ""},
		{`{{ base64Decode "!" }}`, "", "base64Decode: illegal base64 data"},
		{`{{ base64URLDecode "a/" }}`, "", "base64URLDecode: illegal base64 data"},
		{`{{ md5sum "" }} {{ sha256Hex "" | printf "%.8s" }} {{ hmacSHA256Hex "m" "k" | printf "%.8s" }}`, "d41d8cd98f00b204e9800998ecf8427e e3b0c442 b60090e3", ""},
		// strings
		{`{{ indent 2 "a\n\nb\n" }}|{{ indent 0 "a" }}`, "  a\n\n  b\n|a", ""},
		{`{{ indent -1 "a" }}`, "", "indent value must be a positive integer"},
		{`{{ split "," " a,b " }} {{ len (split "," " ") }} {{ join "-" (split "," "x,y") }}`, "[a b] 0 x-y", ""},
		{`{{ splitToMap "," "=" "a=1,b,c=2=3" }}`, "map[a:1 c:2=3]", ""},
		{`{{ trim "-" "--a--" }} {{ trimPrefix "a" "aab" }} {{ trimSuffix "b" "abb" }} [{{ trimSpace " \t" }}]`, "a ab ab []", ""},
		{`{{ toTitle "hello wORLD" }} {{ toUpper "ß" }} {{ toLower "ÀB" }}`, "Hello WORLD ß àb", ""},
		{`{{ replaceAll "a" "b" "aaa" }} {{ regexReplaceAll "(a)(b)?" "[$1$2]" "ab a" }} {{ regexMatch "^a" "ba" }}`, "bbb [ab] [a] false", ""},
		{`{{ regexMatch "(" "" }}`, "", "error parsing regexp"},
		{`{{ toLower 1 }}`, "", "expected string; found 1"},
		// parse and serialise
		{`{{ parseBool "t" }} {{ parseInt "-3" }} {{ parseUint "3" }} {{ parseFloat "1.5" }} {{ parseJSON "" }} {{ parseYAML "" }}`, "true -3 3 1.5 map[] map[]", ""},
		{`{{ parseUint "-1" }}`, "", `parseUint: strconv.ParseUint: parsing "-1": invalid syntax`},
		{`{{ parseInt "9223372036854775808" }}`, "", "value out of range"},
		{`{{ parseJSON "[" }}`, "", "unexpected end of JSON input"},
		{`{{ toJSON (parseJSON "{\"a\":\"<\"}") }} {{ toUnescapedJSON (parseJSON "{\"a\":\"<\"}") }}`, `{"a":"\u003c"} {"a":"<"}`, ""},
		{`{{ toYAML (parseJSON "{\"b\":[1],\"a\":null}") }}`, "a: null\nb:\n- 1", ""},
		{`{{ toTOML (parseJSON "{\"a\":1}") }}`, "a = 1.0", ""},
		{`{{ toTOML "x" }}`, `"x"`, ""},
		{`{{ toTOML (loop 1) }}`, "", "toTOML:"},
		{`{{ toJSON (parseYAML "a: {b: 1}") }}`, "", "toJSON: json: unsupported type"},
		// collections
		{`{{ range $k, $v := ls "p" | byKey }}{{ $k }} {{ end }}{{ range $k, $v := tree "p" | byKey }}{{ $k }}:{{ len $v }} {{ end }}`, "a:2 c:1 ", ""},
		{`{{ with tree "p" | byKey }}{{ (index .c "d/e").Key }} {{ (index .c "d/e").Path }}{{ end }}`, "d/e p/c/d/e", ""},
		{`{{ range $t, $s := service "web" | byTag }}{{ $t }}{{ len $s }} {{ end }}`, "a1 b2 ", ""},
		{`{{ range $p, $s := service "web" | byPort }}{{ $p }}:{{ len $s }} {{ end }}`, "80:2 81:1 ", ""},
		{`{{ byTag nil }} {{ byPort nil }}`, "map[] map[]", ""},
		{`{{ byTag (ls "p") }}`, "", "byTag: wrong argument type []*dependency.KeyPair"},
		{`{{ range $k, $s := service "web" | byMeta "v|int,zone" }}{{ $k }}={{ len $s }} {{ end }}`, "00000__no_zone_=1 00002_eu_1=1 00010__no_zone_=1 ", ""},
		{`{{ service "web" | byMeta "zone|int" }}`, "", "cannot parse eu/1 as number"},
		{`{{ contains "b" (split "," "a,b") }} {{ in "abc" "bc" }} {{ in (parseJSON "[1.0]") 1 }} {{ in (parseJSON "[1]") 1.0 }}`, "true true false true", ""},
		{`{{ containsAll (parseJSON "[\"a\",\"b\"]") (split "," "a,b,c") }} {{ containsAny (parseJSON "[\"z\"]") (split "," "a") }} {{ containsNone (parseJSON "[]") (split "," "a") }} {{ containsNotAll (parseJSON "[\"a\",\"z\"]") (split "," "a") }}`, "true false true true", ""},
		{`{{ in (split "," "a") nil }}`, "", "in: cannot look for nil"},
		{`{{ explode (ls "p") }} {{ explodeMap (parseJSON "{\"x/y\":1,\"x/z\":2}") }}`, "map[b:3] map[x:map[y:1 z:2]]", ""},
		{`{{ explodeMap (parseJSON "{\"a\":1,\"a/b\":2}") }}`, "", `explodeMap: not a map: "a/b": "a" already has value 1`},
		{`{{ explodeMap (parseJSON "{\"a\":\"1\",\"a/b\":2}") }}`, "", `explodeMap: not a map: "a/b": "a" already has value "1"`},
		{`{{ mergeMap (parseJSON "{\"a\":1}") (parseJSON "{\"a\":2,\"b\":3}") }} {{ mergeMapWithOverride (parseJSON "{\"a\":1}") (parseJSON "{\"a\":2}") }}`, "map[a:1 b:3] map[a:2]", ""},
		{`{{ range loop 2 }}{{ . }}{{ end }}{{ range loop (parseUint "3") 5 }}{{ . }}{{ end }}{{ range loop "1" "2" }}{{ . }}{{ end }}`, "01341", ""},
		{`{{ loop }}`, "", "loop: wrong number of arguments, expected 1 or 2, but got 0"},
		{`{{ loop true }}`, "", "loop: bad argument type: bool"},
		// math
		{`{{ add 1 2 }} {{ subtract 1 3 }} {{ multiply 2 (parseUint "3") }} {{ divide 2 7 }} {{ modulo 2 7 }} {{ minimum 1 2.5 }} {{ maximum (parseUint "9") -1 }}`, "3 2 6 3 1 1 9", ""},
		{`{{ printf "%T %T %T %T" (add 1 2) (add 1.0 2) (add (parseUint "1") (parseUint "1")) (maximum (parseUint "9") -1) }}`, "int64 float64 uint64 uint64", ""},
		{`{{ divide 0 1 }}`, "", "divide: division by zero"},
		{`{{ modulo (parseUint "0") (parseUint "1") }}`, "", "modulo: division by zero"},
		{`{{ modulo 1.5 3 }}`, "", "modulo: unknown type for 1.5 (float64)"},
		{`{{ add "1" 2 }}`, "", `add: unknown type for 1 (string)`},
		{`{{ divide 0.0 1 }}`, "+Inf", ""},
		// side effects, sprig, debug
		{`[{{ plugin "" }}] [{{ plugin "echo" " a " "" "b" }}]`, "[] [a b]", ""},
		{`{{ plugin "false" }}`, "", `exec "false": exit status 1`},
		{`{{ writeToFile "/tmp/x" "" "" "0644" }}`, "", "writeToFile: no content to write"},
		{`{{ sockaddr "GetAllInterfaces | include \"name\" \"lo\" | include \"type\" \"IPv4\" | attr \"address\"" }}`, "127.0.0.1", ""},
		{`{{ sockaddr "Nope" }}`, "", "function \"Nope\" not defined"},
		{`{{ sprig_upper "a" }} {{ sprig_default 1 nil }}`, "A 1", ""},
		{`{{ sprig_fail "no" }}`, "", "no"},
		{`{{ spew_sprintf "%v" (split "," "a,b") }} {{ spew_sdump 1 | trimSpace }}`, "[a b] (int) 1", ""},
		{`{{ scratch.MapSet "m" "b" 2 }}{{ scratch.MapSet "m" "a" 1 }}{{ scratch.MapSetX "m" "a" 3 }}{{ scratch.MapValues "m" }}`, "[1 2]", ""},
		{`{{ scratch.Set "s" 1 }}{{ scratch.MapSetX "s" "a" 1 }}`, "", `"s" is not a map`},
		{`{{ define "t" }}<{{ . }}>{{ end }}{{ executeTemplate "t" 1 }}{{ executeTemplate "t" }}`, "<1><<no value>>", ""},
		{`{{ executeTemplate "t" 1 2 }}`, "", "executeTemplate: wrong number of arguments, expected 1 or 2, but got 3"},
		{`{{ timestamp "a" "b" }}`, "", "timestamp: wrong number of arguments"},
		{`{{ datacenters true false }}`, "", "datacenters: wrong number of arguments, expected 0 or 1, but got 2"},
		{`{{ service "a b" }}`, "", `health.service: invalid format: "a b"`},
		{`{{ node "?ns=x" }}`, "", `catalog.node: invalid format: "?ns=x"`},
	}
	for _, tt := range tests {
		res, err := render(t, tt.text, Options{}, s)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s\n got error %v, want %q", tt.text, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s\n unexpected error %v", tt.text, err)
			continue
		}
		if string(res.Output) != tt.want {
			t.Errorf("%s\n got %q\nwant %q", tt.text, res.Output, tt.want)
		}
	}
}
