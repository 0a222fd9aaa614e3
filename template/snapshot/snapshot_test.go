package snapshot_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/drcon/drcon/template/snapshot"
	"github.com/hashicorp/consul/api"
)

// rich holds an answer of every kind with every field set, and the corner
// cases a template can tell apart: nil versus empty slices and maps, nil
// pointers, durations, times, HTML and non-ASCII text, the largest integers.
func rich() map[dep.Dependency]any {
	at := time.Date(2025, 3, 4, 5, 6, 7, 890123456, time.UTC)
	check := &api.HealthCheck{
		Node: "n1", CheckID: "c1", Name: "http", Status: api.HealthWarning, Notes: "<b>&</b>", Output: "HTTP 429\nretry",
		ServiceID: "web-1", ServiceName: "web", ServiceTags: []string{}, Type: "http", ExposedPort: 21500,
		Definition: api.HealthCheckDefinition{
			HTTP: "http://127.0.0.1/h", Header: map[string][]string{"X": {"1", "2"}}, Method: "GET",
			TLSSkipVerify: true, IntervalDuration: 10 * time.Second, TimeoutDuration: 1500 * time.Millisecond,
			DeregisterCriticalServiceAfterDuration: time.Hour,
			Interval:                               api.ReadableDuration(10 * time.Second), Timeout: api.ReadableDuration(1500 * time.Millisecond),
			DeregisterCriticalServiceAfter: api.ReadableDuration(time.Hour),
		},
		CreateIndex: 1<<64 - 1, ModifyIndex: 7,
	}
	return map[dep.Dependency]any{
		{Kind: dep.KindKV, Name: "app/present"}:      dep.KVValue{Exists: true, Value: "héllo <world> & \"q\"\n\t"},
		{Kind: dep.KindKV, Name: "app/empty"}:        dep.KVValue{Exists: true},
		{Kind: dep.KindKV, Name: "app/absent"}:       dep.KVValue{},
		{Kind: dep.KindKVBlock, Name: "app/present"}: dep.KVValue{Exists: true, Value: "read by key"},
		{Kind: dep.KindKVList, Name: "app/", DC: "dc2"}: []*dep.KeyPair{
			{Path: "app/", Key: ""},
			{Path: "app/a", Key: "a", Value: "1", CreateIndex: 3, ModifyIndex: 4, LockIndex: 1, Flags: 1<<64 - 1, Session: "s"},
		},
		{Kind: dep.KindKVList, Name: "none/"}: []*dep.KeyPair{},
		{Kind: dep.KindHealthService, Name: "web", Tag: "v1", Near: "_agent", Filter: "any", Namespace: "ns", Partition: "p"}: []*dep.HealthService{{
			Node: "n1", NodeID: "id", NodeAddress: "10.0.0.1",
			NodeTaggedAddresses: map[string]string{"lan": "10.0.0.1"}, NodeMeta: map[string]string{},
			ServiceMeta: nil, Address: "10.0.0.2",
			ServiceTaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "1.2.3.4", Port: 443}},
			ID:                     "web-1", Name: "web", Tags: dep.ServiceTags{"a", "a", "b"}, Checks: api.HealthChecks{check},
			Status: api.HealthWarning, Port: 8080, Weights: api.AgentWeights{Passing: 3, Warning: 1},
		}, {
			Node: "n2", Tags: dep.ServiceTags{}, Checks: api.HealthChecks{},
		}},
		{Kind: dep.KindHealthConnect, Name: "api", Filter: "passing", Peer: "east"}: []*dep.HealthService{},
		{Kind: dep.KindCatalogServices}:                                             []*dep.CatalogSnippet{{Name: "consul", Tags: dep.ServiceTags{}}, {Name: "web", Tags: dep.ServiceTags{"x"}}},
		{Kind: dep.KindCatalogServices, DC: "empty"}:                                []*dep.CatalogSnippet(nil),
		{Kind: dep.KindCatalogNode}: &dep.CatalogNode{
			Node:     &dep.Node{ID: "id", Node: "n1", Address: "10.0.0.1", Datacenter: "dc1", TaggedAddresses: map[string]string{}, Meta: nil},
			Services: []*dep.CatalogNodeService{{ID: "web-1", Service: "web", Tags: dep.ServiceTags{}, Meta: map[string]string{"k": "v"}, Port: 80, EnableTagOverride: true}},
		},
		{Kind: dep.KindCatalogNode, Name: "absent"}:           &dep.CatalogNode{},
		{Kind: dep.KindCatalogNode, Name: "nil"}:              (*dep.CatalogNode)(nil),
		{Kind: dep.KindCatalogNodes, Near: "n1"}:              []*dep.Node{{Node: "n1"}, {Node: "n0", Meta: map[string]string{"rack": "r"}}},
		{Kind: dep.KindDatacenters}:                           []string{"dc1", "dc2"},
		{Kind: dep.KindDatacenters, IgnoreInaccessible: true}: []string(nil),
		{Kind: dep.KindCARoots}: []*dep.CARoot{{
			ID: "aa:bb", Name: "root", RootCertPEM: "-----BEGIN CERTIFICATE-----\nAB+/=\n-----END CERTIFICATE-----\n",
			Active: true, CreateIndex: 5, ModifyIndex: 6,
		}, {ID: "cc"}},
		{Kind: dep.KindCALeaf, Name: "web"}: &api.LeafCert{
			SerialNumber: "0a", CertPEM: "cert", PrivateKeyPEM: "key", Service: "web", ServiceURI: "spiffe://x/web",
			ValidAfter: at, ValidBefore: at.Add(72 * time.Hour), CreateIndex: 8, ModifyIndex: 9,
		},
		{Kind: dep.KindPeerings}: []*dep.Peering{{
			ID: "p1", Name: "cluster-2", Meta: map[string]string{"env": "test"}, PeeringState: "ACTIVE",
			PeerServerAddresses: []string{"10.0.0.9:8503"},
			StreamStatus:        dep.PeeringStreamStatus{ImportedServices: []string{"web"}, LastHeartbeat: &at},
			Remote:              dep.PeeringRemoteInfo{Datacenter: "dc2"},
		}},
		{Kind: dep.KindPeerings, Partition: "p"}: []*dep.Peering{},
	}
}

func TestEveryKindSurvivesARoundTrip(t *testing.T) {
	data := rich()
	kinds := map[dep.Kind]bool{}
	for d := range data {
		kinds[d.Kind] = true
	}
	for _, k := range dep.Kinds {
		if !kinds[k] {
			t.Fatalf("no %s answer in the round trip", k)
		}
	}
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, data); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range data {
		got, ok := s.Answer(d)
		if !ok {
			t.Fatalf("%s: not in the snapshot", d)
		}
		if !reflect.DeepEqual(got, want) || reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%s:\n got %#v\nwant %#v", d, got, want)
		}
	}
	// Writing what was read gives the same bytes: stable, diffable files.
	again := map[dep.Dependency]any{}
	for d := range data {
		again[d], _ = s.Answer(d)
	}
	var buf2 bytes.Buffer
	if err := snapshot.Write(&buf2, again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
		t.Fatal("rewriting a snapshot changed it")
	}
	if !strings.Contains(buf.String(), `"Notes": "<b>&</b>"`) {
		t.Error("HTML characters are escaped in the file")
	}
}

func TestFileLayout(t *testing.T) {
	var buf bytes.Buffer
	err := snapshot.Write(&buf, map[dep.Dependency]any{
		{Kind: dep.KindKV, Name: "b"}:                                 dep.KVValue{Exists: true, Value: "2"},
		{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}: []*dep.HealthService{},
		{Kind: dep.KindKV, Name: "a", DC: "dc2", Partition: "p"}:      dep.KVValue{},
		{Kind: dep.KindDatacenters, IgnoreInaccessible: true}:         []string{"dc1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format": "drcon-snapshot",
  "version": 1,
  "entries": [
    {
      "id": "catalog.datacenters(ignore-inaccessible)",
      "dependency": {
        "kind": "catalog.datacenters",
        "ignore_inaccessible": true
      },
      "answer": [
        "dc1"
      ]
    },
    {
      "id": "health.service(web|passing)",
      "dependency": {
        "kind": "health.service",
        "name": "web",
        "filter": "passing"
      },
      "answer": []
    },
    {
      "id": "kv.get(a@dc2@partition=p)",
      "dependency": {
        "kind": "kv.get",
        "name": "a",
        "dc": "dc2",
        "partition": "p"
      },
      "answer": {
        "Exists": false,
        "Value": ""
      }
    },
    {
      "id": "kv.get(b)",
      "dependency": {
        "kind": "kv.get",
        "name": "b"
      },
      "answer": {
        "Exists": true,
        "Value": "2"
      }
    }
  ]
}
`
	if buf.String() != want {
		t.Fatalf("got:\n%s", buf.String())
	}
}

func TestWriteRefusesWhatJSONWouldChange(t *testing.T) {
	tests := []struct {
		name string
		d    dep.Dependency
		v    any
		want string
	}{
		{"binary KV value", dep.Dependency{Kind: dep.KindKV, Name: "bin"}, dep.KVValue{Exists: true, Value: "\xff\xfe"}, "kv.get(bin): answer does not survive JSON"},
		{"binary list value", dep.Dependency{Kind: dep.KindKVList, Name: "p"}, []*dep.KeyPair{{Key: "k", Value: "\x80"}}, "kv.list(p): answer does not survive JSON"},
		{"wrong type", dep.Dependency{Kind: dep.KindKVList, Name: "k"}, []string{"a"}, "kv.list(k): answer is a []string, want a []*dependency.KeyPair"},
		{"pointer for value", dep.Dependency{Kind: dep.KindKV, Name: "k"}, &dep.KVValue{}, "kv.get(k): answer is a *dep.KVValue, want a dep.KVValue"},
		{"untyped nil", dep.Dependency{Kind: dep.KindCatalogNode, Name: "n"}, nil, "catalog.node(n): answer is a <nil>, want a *dependency.CatalogNode"},
		{"unknown kind", dep.Dependency{Kind: "x.y"}, 1, `x.y: unknown dependency kind "x.y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := snapshot.Write(&buf, map[dep.Dependency]any{tt.d: tt.v})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Fatal("a refused snapshot wrote bytes")
			}
		})
	}
}

func TestReadRejectsBadFiles(t *testing.T) {
	entry := func(s string) string { return `{"format":"drcon-snapshot","version":1,"entries":[` + s + `]}` }
	tests := []struct{ name, text, want string }{
		{"not JSON", `{`, "read snapshot: unexpected EOF"},
		{"other format", `{"format":"x","version":1}`, `format "x", want "drcon-snapshot"`},
		{"newer version", `{"format":"drcon-snapshot","version":2}`, "format version 2; this drcon reads versions 1 to 1"},
		{"unknown field", entry(`{"dependency":{"kind":"kv.get","name":"a"},"answer":{},"extra":1}`), `unknown field "extra"`},
		{"unknown kind", entry(`{"dependency":{"kind":"kv.nope"},"answer":1}`), `entry 1 (kv.nope): unknown dependency kind "kv.nope"`},
		{"id mismatch", entry(`{"id":"kv.get(b)","dependency":{"kind":"kv.get","name":"a"},"answer":{}}`), `entry 1 (kv.get(a)): id "kv.get(b)" does not match`},
		{"no answer", entry(`{"dependency":{"kind":"kv.get","name":"a"}}`), "entry 1 (kv.get(a)): no answer"},
		{"bad answer", entry(`{"dependency":{"kind":"kv.list","name":"a"},"answer":{"x":1}}`), "entry 1 (kv.list(a)): decode kv.list answer"},
		{"duplicate", entry(`{"dependency":{"kind":"kv.get","name":"a"},"answer":{}},{"dependency":{"kind":"kv.get","name":"a"},"answer":{}}`), "entry 2 (kv.get(a)): dependency listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := snapshot.Read(strings.NewReader(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// A snapshot taken before key had a dependency of its own (kv.block) has
// only kv.get entries: they answer key too; a kv.block entry of its own wins.
func TestKeyAnsweredFromKVGet(t *testing.T) {
	text := `{"format":"drcon-snapshot","version":1,"entries":[
	{"dependency":{"kind":"kv.get","name":"a"},"answer":{"Exists":true,"Value":"1"}},
	{"dependency":{"kind":"kv.get","name":"b","dc":"dc2"},"answer":{"Exists":false,"Value":""}},
	{"dependency":{"kind":"kv.block","name":"b","dc":"dc2"},"answer":{"Exists":true,"Value":"own"}},
	{"dependency":{"kind":"kv.list","name":"c"},"answer":[]}]}`
	s, err := snapshot.Read(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[dep.Dependency]any{
		{Kind: dep.KindKVBlock, Name: "a"}:            dep.KVValue{Exists: true, Value: "1"},
		{Kind: dep.KindKVBlock, Name: "b", DC: "dc2"}: dep.KVValue{Exists: true, Value: "own"},
		{Kind: dep.KindKV, Name: "b", DC: "dc2"}:      dep.KVValue{},
	} {
		if got, ok := s.Answer(d); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", d, got, ok, want)
		}
	}
	if _, ok := s.Answer(dep.Dependency{Kind: dep.KindKVBlock, Name: "c"}); ok {
		t.Error("a key list answers key")
	}
}

// A view answers as Consul does: after the pass that asked, once the job
// has taken the signal; what the snapshot lacks fails once the answers due
// have arrived (the pass that reads them may let go of it).
func TestViewAsSource(t *testing.T) {
	a := dep.Dependency{Kind: dep.KindKV, Name: "a"}
	nilNode := dep.Dependency{Kind: dep.KindCatalogNode, Name: "gone"}
	web := dep.Dependency{Kind: dep.KindHealthService, Name: "web", Filter: "passing"}
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, map[dep.Dependency]any{a: dep.KVValue{Exists: true, Value: "1"}, nilNode: (*dep.CatalogNode)(nil)}); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	signalled := func() bool {
		select {
		case <-v.Changed():
			return true
		default:
			return false
		}
	}
	if _, ok := v.Recall(a); ok {
		t.Fatal("answered before it was wanted")
	}
	v.Want([]dep.Dependency{a, web, nilNode, a})
	if _, ok := v.Recall(a); ok {
		t.Fatal("answered in the pass that asked")
	}
	if err := v.Failure(a); err != nil {
		t.Fatalf("Failure(a) = %v", err)
	}
	if err := v.Failure(web); err != nil {
		t.Fatalf("Failure(web) = %v while an answer is due", err)
	}
	if !signalled() {
		t.Fatal("the answers due were not signalled")
	}
	if got, ok := v.Recall(a); !ok || got != (dep.KVValue{Exists: true, Value: "1"}) {
		t.Fatalf("Recall(a) = %v %v", got, ok)
	}
	if got, ok := v.Recall(nilNode); !ok || got != (*dep.CatalogNode)(nil) {
		t.Fatalf("a nil answer is an answer: %v %v", got, ok)
	}
	if _, ok := v.Recall(web); ok {
		t.Fatal("Recall answered a dependency the snapshot lacks")
	}
	if err := v.Failure(web); err == nil || !strings.Contains(err.Error(), "the snapshot has no answer") {
		t.Fatalf("Failure(web) = %v", err)
	}
	v.Want([]dep.Dependency{a})
	if signalled() {
		t.Fatal("answers that arrived were signalled again")
	}
	if err := v.Failure(web); err != nil {
		t.Fatalf("Failure of a dependency no longer wanted: %v", err)
	}
	if _, ok := s.View().Recall(a); ok {
		t.Fatal("a new view shares what another view was given")
	}
}

// A render from a snapshot ends as a live one: a dependency that the pass
// reading the answers due lets go of never fails it (the live render saved
// no answer to it if it never got one); an answer that has arrived and
// still leaves the template waiting (a key that does not exist) fails it,
// for a snapshot never changes; and a dependency let go of and wanted
// again arrives after a pass again, as a new query to Consul would.
func TestViewEnds(t *testing.T) {
	a := dep.Dependency{Kind: dep.KindKV, Name: "a"}
	absent := dep.Dependency{Kind: dep.KindKVBlock, Name: "absent"}
	lacked := dep.Dependency{Kind: dep.KindKVBlock, Name: "lacked"}
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, map[dep.Dependency]any{a: dep.KVValue{Exists: true, Value: "1"}, absent: dep.KVValue{}}); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	v := s.View()
	pass := func(ds ...dep.Dependency) {
		t.Helper()
		v.Want(ds)
		select {
		case <-v.Changed():
		default:
			t.Fatalf("no answer due after wanting %v", ds)
		}
		for _, d := range ds {
			v.Recall(d)
		}
	}
	v.Want([]dep.Dependency{a, lacked})
	if err := v.Failure(lacked); err != nil {
		t.Fatalf("Failure(lacked) = %v while a is due", err)
	}
	pass(a, absent)
	if err := v.Failure(lacked); err != nil {
		t.Fatalf("Failure of a dependency let go of: %v", err)
	}
	if err := v.Failure(absent); err == nil || !strings.Contains(err.Error(), "a snapshot never changes") {
		t.Fatalf("Failure(absent) = %v", err)
	}
	v.Want([]dep.Dependency{absent})
	v.Want([]dep.Dependency{a, absent})
	if _, ok := v.Recall(a); ok {
		t.Fatal("an answer let go of and wanted again was there in the pass that wanted it again")
	}
	if err := v.Failure(a); err != nil {
		t.Fatalf("Failure(a) = %v while due again", err)
	}
	pass(a, absent)
	if got, ok := v.Recall(a); !ok || got != (dep.KVValue{Exists: true, Value: "1"}) {
		t.Fatalf("Recall(a) = %v %v after it arrived again", got, ok)
	}
}
