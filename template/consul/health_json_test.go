package consul

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
)

// A health answer as Consul 1.14 gives it, with the fields no template sees
// (Proxy, Connect, indexes) and a check with a definition.
const consulAnswer = `[{"Node":{"ID":"e5f6","Node":"vm","Address":"127.0.0.1","Datacenter":"dc1",
"TaggedAddresses":{"lan":"127.0.0.1","wan":"203.0.113.1"},"Meta":{"consul-network-segment":"","rack":"r1"},
"CreateIndex":13,"ModifyIndex":17},
"Service":{"ID":"web-1","Service":"web","Tags":["b","a","a"],"Address":"","Meta":{"version":"1"},"Port":8080,
"Weights":{"Passing":3,"Warning":1},"TaggedAddresses":{"lan":{"Address":"127.0.0.1","Port":8080},"wan":null},
"EnableTagOverride":false,"Proxy":{"Mode":"","MeshGateway":{},"Expose":{}},"Connect":{},"PeerName":"",
"CreateIndex":20,"ModifyIndex":20},
"Checks":[{"Node":"vm","CheckID":"serfHealth","Name":"Serf Health Status","Status":"passing","Notes":"",
"Output":"Agent alive and reachable","ServiceID":"","ServiceName":"","ServiceTags":[],"Type":"","Interval":"",
"Timeout":"","ExposedPort":0,"Definition":{},"CreateIndex":13,"ModifyIndex":13},
{"Node":"vm","CheckID":"web-1-http","Name":"http","Status":"warning","Output":"HTTP GET: 429 \u003cslow\u003e",
"ServiceID":"web-1","ServiceName":"web","ServiceTags":["b","a"],"Type":"http",
"Definition":{"HTTP":"http://127.0.0.1:8080/health","Header":{"X":["1"]},"Interval":"10s","Timeout":"1s",
"DeregisterCriticalServiceAfter":"1m"},"CreateIndex":21,"ModifyIndex":22}]}]`

// reference decodes b as consul/api does, into the instances the fetcher
// makes of consul/api's entries. consul/api panics on a null check
// definition: that counts as an error.
func reference(b []byte) (_ []*instance, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	var all []*api.ServiceEntry
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	if all == nil {
		return nil, nil
	}
	out := make([]*instance, len(all))
	for i, e := range all {
		out[i] = fromEntry(e)
	}
	return out, nil
}

func TestDecodeHealthAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range healthSeeds {
		got, err := decodeHealth([]byte(tc))
		want, werr := reference([]byte(tc))
		if werr != nil {
			if err == nil {
				// Only fields no template reads may be wrong and still decode.
				t.Logf("%.60q: encoding/json fails (%v), decodeHealth does not", tc, werr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%.60q: %v (encoding/json decodes it)", tc, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%.60q:\n got %s\nwant %s", tc, dump(got), dump(want))
		}
	}
}

func FuzzDecodeHealth(f *testing.F) {
	for _, s := range healthSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeHealth(b)
		want, werr := reference(b)
		switch {
		case werr != nil:
			return // decodeHealth may accept what only unread fields spoil
		case err != nil:
			t.Fatalf("decodeHealth fails where encoding/json does not: %v", err)
		case !reflect.DeepEqual(got, want):
			t.Fatalf("decodeHealth and encoding/json differ:\n got %s\nwant %s", dump(got), dump(want))
		}
	})
}

func dump(ins []*instance) string {
	var sb strings.Builder
	for _, in := range ins {
		if in == nil {
			sb.WriteString("<nil> ")
			continue
		}
		b, _ := json.Marshal(in.HealthService)
		fmt.Fprintf(&sb, "{node %t service %t %s} ", in.hasNode, in.hasService, b)
	}
	return sb.String()
}

// healthSeeds cover what decodeHealth must do as encoding/json does.
var healthSeeds = []string{
	consulAnswer,
	`[]`, `null`, ` [ ] `, `[null]`, `[{}]`, `[{"Node":null,"Service":null,"Checks":null}]`,
	// Keys match fields ignoring case, the exact one first; escapes in keys.
	`[{"node":{"node":"a","ADDRESS":"x"},"SERVICE":{"id":"i","Port":1}}]`,
	`[{"Node":{"N\u006fde":"esc"}}]`,
	`[{"Node":{"Node":"a","node":"b"}}]`,
	// Kelvin sign and long s fold to k and s.
	"[{\"Node\":{\"Node\":\"k\"},\"Service\":{\"\u017fervice\":\"longs\",\"Tag\u017f\":[\"t\"]},\"Checks\":[{\"CheckID\":\"c\",\"\u212a\":1}]}]",
	// Repeated keys: the last wins; objects and maps merge, slices replace.
	`[{"Node":{"Node":"a","Meta":{"x":"1"}},"Node":{"Address":"b","Meta":{"y":"2"}}}]`,
	`[{"Node":{"Meta":{"x":"1"}},"Node":{"Meta":null}}]`,
	`[{"Service":{"Tags":["a","b"],"Tags":[]}}]`,
	`[{"Service":{"Tags":["a"],"Tags":null}}]`,
	`[{"Checks":[{"CheckID":"a"}],"Checks":[]}]`,
	`[{"Checks":[{"CheckID":"a","Name":"n","Definition":{"Interval":"5s"}}],"Checks":[{"CheckID":"b","Definition":{}},{"CheckID":"c"}]}]`,
	`[{"Checks":[{"CheckID":"a"},{"CheckID":"b"}],"Checks":[null,{"Status":"passing"}]}]`,
	`[{"Checks":[null],"Checks":[{"Name":"x"}]}]`,
	`[{"Checks":[{"Definition":{"Interval":"5s"},"Definition":{}}]}]`,
	`[{"Checks":[{"Definition":{},"Definition":{"Timeout":"2s"}}]}]`,
	`[{"Checks":[{"Definition":null}]}]`,
	`[{"Checks":[{"Definition":{"IntervalDuration":1000000000}}]}]`,
	`[{"Checks":[{"Definition":{"Interval":"nope"}}]}]`,
	`[{"Checks":[null]}]`,
	// Nulls inside values.
	`[{"Node":{"Meta":{"a":null}},"Service":{"Tags":[null,"x"],"Weights":null,"Port":null,
"TaggedAddresses":{"lan":null,"wan":{"Address":null,"Port":null}}}}]`,
	// Strings: escapes, surrogates (paired and lone), invalid UTF-8, non-ASCII.
	`[{"Node":{"Node":"a\"b\\c\/d\b\f\n\r\t\u00e9\u4e16\ud83d\ude00"}}]`,
	`[{"Node":{"Node":"lone \ud83d and \ude00 and \ud83d\u0041"}}]`,
	"[{\"Node\":{\"Node\":\"bad \xff\xfe utf8 \xe2\x82 and ünïcode\"}}]",
	// Numbers: what fits an int, what does not.
	`[{"Service":{"Port":-0,"Weights":{"Passing":9223372036854775807,"Warning":-9223372036854775808}}}]`,
	`[{"Service":{"Port":9223372036854775808}}]`,
	`[{"Service":{"Port":1.0}}]`, `[{"Service":{"Port":1e2}}]`, `[{"Service":{"Port":"80"}}]`,
	`[{"Service":{"Port":01}}]`, `[{"Checks":[{"CreateIndex":-1}]}]`, `[{"Checks":[{"ModifyIndex":18446744073709551615}]}]`,
	// Unknown fields of every shape are skipped but must be valid JSON.
	`[{"Extra":{"a":[1,2.5e-3,true,false,null,{"b":"c"}]},"Node":{"Node":"n"}}]`,
	`[{"Extra":[1,]}]`, `[{"Extra":tru}]`, `[{"Extra":"\x"}]`, `[{"Extra":"a` + "\x01" + `"}]`,
	// Wrong shapes where fields are read.
	`[{"Node":[]}]`, `[{"Service":{"Tags":"a"}}]`, `[{"Service":{"Meta":{"a":1}}}]`,
	`[{"Node":{"TaggedAddresses":[]}}]`, `[1]`, `{}`, `"x"`,
	// Broken or trailing input.
	``, `[`, `[{`, `[{"Node"`, `[{"Node":`, `[{"Node":{}`, `[] x`, `[]]`, `[{}]]`, `nul`,
}

func TestLocalAddresses(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8500": true, "127.1.2.3:1": true, "[::1]:8500": true, "localhost:8500": true,
		"localhost": true, "/var/run/consul.sock": true, "::1": true,
		"10.0.0.1:8500": false, "consul.service:8500": false, "[2001:db8::1]:8500": false, "": false,
	} {
		if got := local(addr); got != want {
			t.Errorf("local(%q) = %t, want %t", addr, got, want)
		}
	}
}

func TestFieldNameMatchesAsEncodingJSON(t *testing.T) {
	names := []string{"ID", "Node", "Address"}
	for key, want := range map[string]string{
		"ID": "ID", "id": "ID", "Id": "ID", "node": "Node", "NODE": "Node", "address": "Address",
		"Nodes": "", "": "", "I": "", strings.Repeat("x", 40): "",
	} {
		if got := fieldName([]byte(key), names...); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", key, got, want)
		}
	}
}
