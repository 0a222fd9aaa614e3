package register

import (
	"reflect"
	"testing"
)

func TestMetadataPrecedence(t *testing.T) {
	env := []string{
		"PATH=/bin",
		"SERVICE_NAME=env-name",
		"SERVICE_80_NAME=env-80",
		"SERVICE_TAGS=env-tags",
		"SERVICE_REGION=",       // empty: unset
		"SERVICE_ZONE=env-zone", // no label: env stays
		"SERVICE_99999_NAME=x",  // a port key of no port: applies nowhere
		"SERVICE_080_NAME=y",    // "080" is not port 80's number as written
		"SERVICE_=nothing",
	}
	labels := map[string]string{
		"SERVICE_NAME":     "label-name",
		"SERVICE_TAGS":     "", // an empty label does not unset the variable
		"SERVICE_443_TAGS": "tls",
		"SERVICE_Region":   "eu", // keys are lower-cased
		"service_name":     "not ours: the prefix is case-sensitive",
	}
	m := readMetadata(env, labels)
	cases := []struct {
		port int
		key  string
		want string
	}{
		{80, "name", "env-80"}, // port-specific env beats generic label
		{443, "name", "label-name"},
		{8080, "name", "label-name"},
		{80, "tags", "env-tags"},
		{443, "tags", "tls"},
		{80, "region", "eu"},
		{80, "zone", "env-zone"},
		{80, "99999_name", ""},
		{80, "080_name", ""},
	}
	for _, c := range cases {
		if got := m.forPort(c.port).get(c.key); got != c.want {
			t.Errorf("port %d %s = %q, want %q", c.port, c.key, got, c.want)
		}
	}
	if src := m.forPort(443).get("tags"); src != "tls" || m.forPort(443)["tags"].src != `label "SERVICE_443_TAGS"` {
		t.Errorf("source of port 443 tags = %q", m.forPort(443)["tags"].src)
	}
	if len(m.unused) != 3 || m.unused[0].src != `env "SERVICE_99999_NAME"` || m.unused[2].src != `env "SERVICE_"` {
		t.Errorf("settings of no port: %v", m.unused)
	}
	if got := m.declaredPorts(); !reflect.DeepEqual(got, []int{80, 443}) {
		t.Errorf("declared ports %v", got)
	}
}

// TestMetadataNoKey: SERVICE_80_ and SERVICE_ set nothing (registrator sent
// the meta key "", which Consul refuses with the whole registration); drcon
// sent "80_" as meta of every port. Both are named in a warning.
func TestMetadataNoKey(t *testing.T) {
	m := readMetadata([]string{"SERVICE_=a"}, map[string]string{"SERVICE_80_": "x", "SERVICE_80": "y", "SERVICE_web_": "z"})
	if _, ok := m.forPort(80)["80_"]; ok {
		t.Errorf("SERVICE_80_ read as the key 80_: %v", m.forPort(80))
	}
	if len(m.ports) != 0 {
		t.Errorf("port settings %v, want none", m.ports)
	}
	// As in registrator, a key that is a number alone, or that does not
	// start with one, is an ordinary key.
	if v := m.forPort(80); v.get("80") != "y" || v.get("web_") != "z" {
		t.Errorf("view %v", v)
	}
	var got []string
	for _, w := range m.unused {
		got = append(got, w.String())
	}
	want := []string{`env "SERVICE_": no key after SERVICE_ or the port: ignored`, `label "SERVICE_80_": no key after SERVICE_ or the port: ignored`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings %q, want %q", got, want)
	}
}

// TestMetadataTrimmed: values are read without surrounding whitespace (the
// trailing space of an env file line); a value of whitespace alone is unset.
func TestMetadataTrimmed(t *testing.T) {
	m := readMetadata([]string{"SERVICE_NAME= web \t", "SERVICE_CHECK_INTERVAL=5s ", "SERVICE_TAGS=a"},
		map[string]string{"SERVICE_80_ID": " id1\n", "SERVICE_TAGS": "  "})
	v := m.forPort(80)
	for key, want := range map[string]string{"name": "web", "check_interval": "5s", "id": "id1", "tags": "a"} {
		if got := v.get(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
}

func TestDeclaredPortsIgnoreOnly(t *testing.T) {
	m := readMetadata(nil, map[string]string{"SERVICE_80_IGNORE": "1", "SERVICE_81_CHECK_TCP": "1"})
	if got := m.declaredPorts(); !reflect.DeepEqual(got, []int{81}) {
		t.Errorf("declared ports %v, want [81]", got)
	}
}

func TestSplitTags(t *testing.T) {
	cases := map[string][]string{
		"":                  nil,
		"a":                 {"a"},
		"a,b":               {"a", "b"},
		" a , ,b,":          {"a", "b"},
		`urlprefix-/a\,b,c`: {"urlprefix-/a,b", "c"},
		`a\b`:               {`a\b`},
		`trail\`:            {`trail\`},
	}
	for in, want := range cases {
		if got := splitTags(in); !reflect.DeepEqual(got, want) {
			t.Errorf("splitTags(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShellSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "curl -sf http://x", want: []string{"curl", "-sf", "http://x"}},
		{in: `sh -c 'echo "a b"; exit 1'`, want: []string{"sh", "-c", `echo "a b"; exit 1`}},
		{in: `echo "a \"q\" \$x \n"`, want: []string{"echo", `a "q" $x \n`}},
		{in: `a\ b c`, want: []string{"a b", "c"}},
		{in: `''`, want: []string{""}},
		{in: "  \t", want: nil},
		{in: `x'y'"z"`, want: []string{"xyz"}},
		{in: `echo 'open`, bad: true},
		{in: `echo "open`, bad: true},
		{in: `echo \`, bad: true},
	}
	for _, c := range cases {
		got, err := shellSplit(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("shellSplit(%q) = %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
