package template

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"dario.cat/mergo"

	"github.com/drcon/drcon/template/dep"
)

// Grouping, membership and map helpers.

// byKey groups KV pairs by the first segment of their key; each pair is a
// copy whose Key is the rest. Pairs with no rest are dropped.
func byKey(pairs []*dep.KeyPair) (map[string]map[string]*dep.KeyPair, error) {
	m := map[string]map[string]*dep.KeyPair{}
	for _, p := range pairs {
		if p == nil {
			continue
		}
		top, rest, _ := strings.Cut(p.Key, "/")
		if rest == "" {
			continue
		}
		if m[top] == nil {
			m[top] = map[string]*dep.KeyPair{}
		}
		c := *p
		c.Key = rest
		m[top][rest] = &c
	}
	return m, nil
}

// byTag groups services (from service, connect or services) by tag.
func byTag(in any) (map[string][]any, error) {
	m := map[string][]any{}
	switch list := in.(type) {
	case nil:
	case []*dep.CatalogSnippet:
		for _, s := range list {
			for _, t := range s.Tags {
				m[t] = append(m[t], s)
			}
		}
	case []*dep.HealthService:
		for _, s := range list {
			for _, t := range s.Tags {
				m[t] = append(m[t], s)
			}
		}
	default:
		return nil, fmt.Errorf("byTag: wrong argument type %T", in)
	}
	return m, nil
}

// byPort groups service instances by port.
func byPort(in any) (map[int][]any, error) {
	m := map[int][]any{}
	switch list := in.(type) {
	case nil:
	case []*dep.HealthService:
		for _, s := range list {
			m[s.Port] = append(m[s.Port], s)
		}
	default:
		return nil, fmt.Errorf("byPort: wrong argument type %T", in)
	}
	return m, nil
}

// metaKeyUnsafe matches the characters byMeta replaces in group keys.
var metaKeyUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// byMeta groups service instances by the values of one or more service meta
// keys ("k1,k2"). A key with the suffix "|int" is read as a number and
// zero-padded to five digits so that groups sort numerically; a missing
// value is "0" for those and "_no_KEY_" for the others.
func byMeta(meta string, services []*dep.HealthService) (map[string][]*dep.HealthService, error) {
	keys := strings.Split(meta, ",")
	groups := map[string][]*dep.HealthService{}
	parts := make([]string, len(keys))
	for _, s := range services {
		for i, k := range keys {
			name, isInt := strings.CutSuffix(k, "|int")
			v := s.ServiceMeta[name]
			switch {
			case v == "" && isInt:
				v = "0"
			case v == "":
				v = "_no_" + name + "_"
			}
			if isInt {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, fmt.Errorf("cannot parse %v as number : %w", v, err)
				}
				v = fmt.Sprintf("%05d", n)
			}
			parts[i] = metaKeyUnsafe.ReplaceAllString(v, "_")
		}
		key := strings.Join(parts, "_")
		groups[key] = append(groups[key], s)
	}
	return groups, nil
}

// contains is in with its arguments swapped, for pipes: {{ .Tags | contains "x" }}.
func contains(v, l any) (bool, error) { return in(l, v) }

// in reports whether l (a slice or array) holds v, or l (a string) contains
// v. Elements compare as consul-template's do: any integer kinds by value,
// any float kinds by value, strings only with the same type; nothing else
// ever matches.
func in(l, v any) (bool, error) {
	lv, vv := reflect.ValueOf(l), reflect.ValueOf(v)
	switch lv.Kind() {
	case reflect.Array, reflect.Slice:
		for i := 0; i < lv.Len(); i++ {
			e := lv.Index(i)
			if e.Kind() == reflect.Interface {
				e = e.Elem()
			}
			switch e.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				if isInt(vv) && vv.Int() == e.Int() {
					return true, nil
				}
			case reflect.Float32, reflect.Float64:
				if isFloat(vv) && vv.Float() == e.Float() {
					return true, nil
				}
			case reflect.String:
				if !vv.IsValid() {
					return false, fmt.Errorf("in: cannot look for nil among strings")
				}
				if vv.Type() == e.Type() && vv.String() == e.String() {
					return true, nil
				}
			}
		}
	case reflect.String:
		if !vv.IsValid() {
			return false, fmt.Errorf("in: cannot look for nil in a string")
		}
		return vv.Type() == lv.Type() && strings.Contains(lv.String(), vv.String()), nil
	}
	return false, nil
}

func isInt(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}

func isFloat(v reflect.Value) bool {
	return v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64
}

// containsAll: every value of v is in l.
func containsAll(v []any, l any) (bool, error) { return containsSome(v, l, true, true) }

// containsAny: some value of v is in l.
func containsAny(v []any, l any) (bool, error) { return containsSome(v, l, false, false) }

// containsNone: no value of v is in l.
func containsNone(v []any, l any) (bool, error) { return containsSome(v, l, true, false) }

// containsNotAll: some value of v is not in l.
func containsNotAll(v []any, l any) (bool, error) { return containsSome(v, l, false, true) }

// containsSome answers early with !whenDone as soon as one value's
// membership differs from invert, and with whenDone otherwise.
func containsSome(v []any, l any, whenDone, invert bool) (bool, error) {
	for _, e := range v {
		ok, err := in(l, e)
		if err != nil {
			return false, err
		}
		if ok != invert {
			return !whenDone, nil
		}
	}
	return whenDone, nil
}

// explode turns KV pairs into nested maps along the "/" of their keys.
func explode(pairs []*dep.KeyPair) (map[string]any, error) {
	m := map[string]any{}
	for _, p := range pairs {
		if p == nil {
			continue
		}
		if err := nest(m, p.Key, p.Value, p.Key); err != nil {
			return nil, fmt.Errorf("explode: %w", err)
		}
	}
	return m, nil
}

// explodeMap turns a flat map with "/"-separated keys into nested maps,
// inserting keys in sorted order so that conflicts resolve the same way
// every time.
func explodeMap(flat map[string]any) (map[string]any, error) {
	keys := make([]string, 0, len(flat))
	for k := range flat {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m := map[string]any{}
	for _, k := range keys {
		if err := nest(m, k, flat[k], k); err != nil {
			return nil, fmt.Errorf("explodeMap: %w", err)
		}
	}
	return m, nil
}

// nest stores v at the path k below m; full is the key being placed, for
// the error when a segment already holds a value that is not a map.
func nest(m map[string]any, k string, v any, full string) error {
	for {
		top, rest, found := strings.Cut(k, "/")
		if !found {
			break
		}
		if _, ok := m[top]; !ok {
			m[top] = map[string]any{}
		}
		next, ok := m[top].(map[string]any)
		if !ok {
			// Quoted when a string, as consul-template prints it (a KV
			// value); a parsed number or bool as it is.
			held := fmt.Sprint(m[top])
			if s, ok := m[top].(string); ok {
				held = strconv.Quote(s)
			}
			return fmt.Errorf("not a map: %q: %q already has value %s", full, top, held)
		}
		m, k, full = next, rest, k
	}
	if k != "" {
		m[k] = v
	}
	return nil
}

// mergeMap adds to dst the keys of src that dst lacks (dst is changed and
// returned, as in consul-template).
func mergeMap(dst, src map[string]any) (map[string]any, error) {
	if err := mergo.Map(&dst, src); err != nil {
		return nil, err
	}
	return dst, nil
}

// mergeMapWithOverride is mergeMap where src's values win.
func mergeMapWithOverride(dst, src map[string]any) (map[string]any, error) {
	if err := mergo.Map(&dst, src, mergo.WithOverride); err != nil {
		return nil, err
	}
	return dst, nil
}
