package template

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
)

// helpers are the functions that hold no state, with consul-template's
// names and signatures: the signatures decide how text/template converts
// arguments and which calls fail, so they are part of the language.
var helpers = template.FuncMap{
	"base64Decode":          base64Decode,
	"base64Encode":          base64Encode,
	"base64URLDecode":       base64URLDecode,
	"base64URLEncode":       base64URLEncode,
	"byKey":                 byKey,
	"byMeta":                byMeta,
	"byPort":                byPort,
	"byTag":                 byTag,
	"contains":              contains,
	"containsAll":           containsAll,
	"containsAny":           containsAny,
	"containsNone":          containsNone,
	"containsNotAll":        containsNotAll,
	"explode":               explode,
	"explodeMap":            explodeMap,
	"hmacSHA256Hex":         hmacSHA256Hex,
	"in":                    in,
	"indent":                indent,
	"join":                  join,
	"md5sum":                md5sum,
	"mergeMap":              mergeMap,
	"mergeMapWithOverride":  mergeMapWithOverride,
	"parseBool":             parseBool,
	"parseFloat":            parseFloat,
	"parseInt":              parseInt,
	"parseJSON":             parseJSON,
	"parseUint":             parseUint,
	"parseYAML":             parseYAML,
	"plugin":                plugin,
	"regexMatch":            regexMatch,
	"regexReplaceAll":       regexReplaceAll,
	"replaceAll":            replaceAll,
	"sha256Hex":             sha256Hex,
	"sockaddr":              sockaddr,
	"split":                 split,
	"splitToMap":            splitToMap,
	"toJSON":                toJSON,
	"toJSONPretty":          toJSONPretty,
	"toLower":               toLower,
	"toTitle":               toTitle,
	"toTOML":                toTOML,
	"toUnescapedJSON":       toUnescapedJSON,
	"toUnescapedJSONPretty": toUnescapedJSONPretty,
	"toUpper":               toUpper,
	"toYAML":                toYAML,
	"trim":                  trim,
	"trimPrefix":            trimPrefix,
	"trimSpace":             trimSpace,
	"trimSuffix":            trimSuffix,
	"writeToFile":           writeToFile,

	"add":      add,
	"subtract": subtract,
	"multiply": multiply,
	"divide":   divide,
	"modulo":   modulo,
	"minimum":  minimum,
	"maximum":  maximum,

	"spew_dump":    spewDump,
	"spew_printf":  spewPrintf,
	"spew_sdump":   spewSdump,
	"spew_sprintf": spewSprintf,
}

func init() {
	// consul-template offers sprig's repeatable functions under a prefix.
	for name, fn := range sprig.HermeticTxtFuncMap() {
		helpers["sprig_"+name] = fn
	}
}

// FuncNames lists, sorted, every function drcon's template language offers:
// consul-template's functions that drcon supports, sprig_* included.
// text/template's builtins (and, index, printf, ...) are not listed.
func FuncNames() []string {
	names := slices.Collect(maps.Keys(helpers))
	names = slices.AppendSeq(names, maps.Keys((&Template{}).templateFuncs()))
	names = slices.AppendSeq(names, maps.Keys((&execution{}).funcs()))
	slices.Sort(names)
	return names
}

// errDisabled is what a function on the denylist returns, as consul-template.
var errDisabled = errors.New("function is disabled")

// disabled replaces a denied function. Its signature is consul-template's, so
// a call with arguments that are not strings fails in text/template first,
// as it does there.
func disabled(...string) (string, error) { return "", errDisabled }

// denylist reports which of names match one of the patterns.
func denylist(patterns []string, names []string) map[string]bool {
	denied := map[string]bool{}
	for _, p := range patterns {
		for _, n := range names {
			if glob(p, n) {
				denied[n] = true
			}
		}
	}
	return denied
}

// glob matches name against pattern, where "*" matches any run of
// characters and every other character only itself (consul-template's
// go-glob semantics: no "?", classes or escapes).
func glob(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}
