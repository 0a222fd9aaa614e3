package register

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// value is one SERVICE_* setting and where it was read, so that a log line
// about a bad value can name the label or variable to fix.
type value struct {
	v    string
	src  string // e.g. `label "SERVICE_80_CHECK_INTERVAL"`
	port bool   // read from a SERVICE_<port>_<key>
}

// metadata is what a container says about its services through SERVICE_*
// environment variables and labels, read with registrator's rules: the key
// after SERVICE_ is lower-cased, an empty value is unset, a label beats a
// variable of the same key, and SERVICE_<port>_<key> applies to one
// container port only. Values are trimmed of surrounding whitespace, which
// is never meant: the trailing space of an env file line made registrator
// register the service "web " (no DNS name, and not the "web" anyone asks
// for), and "10s " is no duration. A blank value is unset, but for
// SERVICE_IGNORE, which ignores with any value as in registrator.
type metadata struct {
	generic map[string]value
	ports   map[int]map[string]value
	// unused are the settings that apply to no port: SERVICE_<number>_<key>
	// whose number, as written, is no port ("080", "0", "99999"), which
	// registrator compared with each port's and so applied nowhere, and
	// those with no key (SERVICE_, SERVICE_80_), which registrator sent as
	// the meta key "", refused by Consul with the whole registration.
	unused []warning
}

const servicePrefix = "SERVICE_"

// readMetadata reads env (KEY=VALUE entries, later ones win) and then labels
// (in key order, so that two spellings of one key resolve the same way every
// time), labels overriding env.
func readMetadata(env []string, labels map[string]string) metadata {
	m := &metadata{generic: map[string]value{}, ports: map[int]map[string]value{}}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m.set(k, v, "env")
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.set(k, labels[k], "label")
	}
	return *m
}

func (m *metadata) set(raw, v, kind string) {
	if v == "" || !strings.HasPrefix(raw, servicePrefix) {
		return
	}
	key := strings.ToLower(raw[len(servicePrefix):])
	val := value{v: strings.TrimSpace(v), src: fmt.Sprintf("%s %q", kind, raw)}
	port, rest, kindOfKey := portKey(key)
	if val.v == "" {
		// A blank SERVICE_IGNORE ignores, as any value did in registrator:
		// trimming must not register what it kept out of Consul.
		if key != "ignore" && rest != "ignore" {
			return
		}
		val.v = v
	}
	switch kindOfKey {
	case keyNone:
		m.unused = append(m.unused, warning{src: val.src, msg: "no key after SERVICE_ or the port: ignored"})
		return
	case keyNoPort:
		m.unused = append(m.unused, warning{src: val.src, msg: "names no port (a port's number as written, such as 80): ignored, as registrator ignored it"})
		return
	case keyPort:
		if m.ports[port] == nil {
			m.ports[port] = map[string]value{}
		}
		val.port = true
		m.ports[port][rest] = val
		return
	}
	m.generic[key] = val
}

// Kinds of SERVICE_* keys (portKey).
const (
	keyGeneric = iota // "name": applies to every port
	keyPort           // "80_name": applies to port 80
	keyNoPort         // "080_name", "0_name": a port key that names no port
	keyNone           // "", "80_": no key to set
)

// portKey splits "80_name" into 80 and "name". As in registrator, a key
// whose first part reads as an integer is a port key, and it applies to a
// port only when it is that port's number as written: "080_name" and
// "99999_name" apply to none.
func portKey(key string) (int, string, int) {
	digits, rest, ok := strings.Cut(key, "_")
	if key == "" {
		return 0, "", keyNone
	}
	if !ok {
		return 0, "", keyGeneric
	}
	p, err := strconv.Atoi(digits)
	switch {
	case err != nil:
		return 0, "", keyGeneric
	case rest == "":
		return 0, "", keyNone
	case p < 1 || p > 65535 || strconv.Itoa(p) != digits:
		return 0, "", keyNoPort
	}
	return p, rest, keyPort
}

// view is the metadata that applies to one port: the generic keys, each
// replaced by its port-specific twin when there is one.
type view map[string]value

func (m metadata) forPort(port int) view {
	v := make(view, len(m.generic)+len(m.ports[port]))
	for k, val := range m.generic {
		v[k] = val
	}
	for k, val := range m.ports[port] {
		v[k] = val
	}
	return v
}

func (v view) get(key string) string { return v[key].v }

// declaredPorts are the ports that SERVICE_<port>_* keys speak of, other than
// to ignore them: with host networking these, and not every EXPOSE, are the
// container's services (registrator #608).
func (m metadata) declaredPorts() []int {
	var out []int
	for p, keys := range m.ports {
		for k := range keys {
			if k != "ignore" {
				out = append(out, p)
				break
			}
		}
	}
	sort.Ints(out)
	return out
}

// mention is the setting of keys that a warning about them names: the
// name if set, else the first by key, ignore aside; ok is false when there
// is none.
func mention(keys map[string]value) (value, bool) {
	if v, ok := keys["name"]; ok {
		return v, true
	}
	first := ""
	for k := range keys {
		if k != "ignore" && (first == "" || k < first) {
			first = k
		}
	}
	if first == "" {
		return value{}, false
	}
	return keys[first], true
}

// splitTags splits a SERVICE_TAGS value at commas; `\,` is a comma inside a
// tag. Tags are trimmed and empty ones dropped.
func splitTags(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, t)
		}
		cur.Reset()
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == ',':
			cur.WriteByte(',')
			i++
		case s[i] == ',':
			flush()
		default:
			cur.WriteByte(s[i])
		}
	}
	flush()
	return out
}
