package dedup

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/template/dep"
	"github.com/hashicorp/consul/api"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// answers holds an answer of every shareable kind, with the corner cases
// a template can tell apart: nil versus empty, nil pointers, HTML and
// non-ASCII text, the largest integers.
func answers() map[dep.Dependency]any {
	return map[dep.Dependency]any{
		{Kind: dep.KindKV, Name: "app/present"}: dep.KVValue{Exists: true, Value: "héllo <world> & \"q\"\n"},
		{Kind: dep.KindKV, Name: "app/absent"}:  dep.KVValue{},
		{Kind: dep.KindKVList, Name: "app/", DC: "dc2"}: []*dep.KeyPair{
			{Path: "app/a", Key: "a", Value: "1", CreateIndex: 3, ModifyIndex: 4, Flags: 1<<64 - 1},
		},
		{Kind: dep.KindKVList, Name: "none/"}: []*dep.KeyPair{},
		{Kind: dep.KindHealthService, Name: "web", Tag: "v1", Filter: "passing", Namespace: "ns"}: []*dep.HealthService{{
			Node: "n1", NodeAddress: "10.0.0.1", NodeMeta: map[string]string{}, Address: "10.0.0.2",
			ServiceTaggedAddresses: map[string]api.ServiceAddress{"wan": {Address: "1.2.3.4", Port: 443}},
			ID:                     "web-1", Name: "web", Tags: dep.ServiceTags{"a", "b"},
			Checks: api.HealthChecks{{Node: "n1", CheckID: "serfHealth", Status: "passing", Output: "<ok>",
				Definition: api.HealthCheckDefinition{IntervalDuration: 10 * time.Second, Interval: api.ReadableDuration(10 * time.Second)}}},
			Status: "passing", Port: 8080, Weights: api.AgentWeights{Passing: 1, Warning: 1},
		}},
		{Kind: dep.KindHealthConnect, Name: "api", Filter: "passing"}: []*dep.HealthService{},
		{Kind: dep.KindCatalogServices}:                               []*dep.CatalogSnippet{{Name: "web", Tags: dep.ServiceTags{}}},
		{Kind: dep.KindCatalogServices, DC: "empty"}:                  []*dep.CatalogSnippet(nil),
		{Kind: dep.KindCatalogNode, Name: "n1"}: &dep.CatalogNode{
			Node:     &dep.Node{Node: "n1", Address: "10.0.0.1", Datacenter: "dc1"},
			Services: []*dep.CatalogNodeService{{ID: "web-1", Service: "web", Tags: dep.ServiceTags{}, Port: 80}},
		},
		{Kind: dep.KindCatalogNode, Name: "gone"}:             (*dep.CatalogNode)(nil),
		{Kind: dep.KindCatalogNodes, Near: "n1"}:              []*dep.Node{{Node: "n1"}},
		{Kind: dep.KindDatacenters, IgnoreInaccessible: true}: []string{"dc1", "dc2"},
	}
}

// sample is a publication of answers() as a leader writes it.
func sample(t *testing.T) wireData {
	t.Helper()
	w := wireData{Identity: "3dc8270e2abfa2a1901102e9febd4a2d",
		Session: "0b1e6b8c-6f3c-4d0e-9b6e-3c2f4e5a6b7c", Holder: "host-a:41", Drcon: "v0.9.0", Seq: 7,
		PublishedAt: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), Omitted: []string{"kv.get(app/binary)"}}
	i := uint64(100)
	for d, v := range answers() {
		raw, err := dep.EncodeValue(d.Kind, v)
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		i++
		w.Entries = append(w.Entries, wireEntry{ID: d.String(), Dependency: d.Wire(), Index: i, Answer: raw})
	}
	return w
}

// body checks a publication's version line and returns its JSON.
func body(t *testing.T, b []byte) []byte {
	t.Helper()
	rest, ok := bytes.CutPrefix(b, []byte("drcon-dedup-data/1\n"))
	if !ok {
		t.Fatalf("no version line: %q", b[:min(len(b), 30)])
	}
	z, err := gzip.NewReader(bytes.NewReader(rest))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// v1 is a version 1 publication of the JSON js.
func v1(js []byte) []byte { return append([]byte("drcon-dedup-data/1\n"), gz(js)...) }

func gz(b []byte) []byte {
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	z.Write(b)
	z.Close()
	return out.Bytes()
}

// TestFormatV1Golden pins version 1 as written, and checks that it reads
// back to the answers exactly. The golden file is also the oldest data a
// future reader must accept: do not rewrite it when the format moves on.
func TestFormatV1Golden(t *testing.T) {
	w := sample(t)
	for i := range w.Entries {
		w.Entries[i].Index = 0 // map order made them random
	}
	out, dropped, err := encodeData(w, maxSize)
	if err != nil || dropped != nil {
		t.Fatalf("encode: %v, dropped %v", err, dropped)
	}
	got := body(t, out)
	golden := filepath.Join("testdata", "data-v1.txt")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("version 1 changed; the golden file is a promise to older readers:\n%s", got)
	}

	d, err := DecodeData(v1(want), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Identity != w.Identity || d.Session != w.Session || d.Holder != "host-a:41" || d.Drcon != "v0.9.0" ||
		d.Seq != 7 || !d.PublishedAt.Equal(w.PublishedAt) || !reflect.DeepEqual(d.Omitted, w.Omitted) {
		t.Fatalf("header: %+v", d)
	}
	a := answers()
	if len(d.Entries) != len(a) {
		t.Fatalf("%d entries, want %d", len(d.Entries), len(a))
	}
	for dd, v := range a {
		e, ok := d.Entries[dd]
		if !ok || !reflect.DeepEqual(e.Value, v) {
			t.Errorf("%s: got %#v, want %#v", dd, e.Value, v)
		}
	}
}

// TestDecodeKeepsUnchangedAnswers checks that an update decodes only what
// changed: unchanged answers keep the very value the watcher pool already
// holds, which it then compares for free.
func TestDecodeKeepsUnchangedAnswers(t *testing.T) {
	w := sample(t)
	out, _, err := encodeData(w, maxSize)
	if err != nil {
		t.Fatal(err)
	}
	first, err := DecodeData(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := dep.Dependency{Kind: dep.KindKV, Name: "app/absent"}
	for i, e := range w.Entries {
		if e.ID == changed.String() {
			w.Entries[i].Answer = json.RawMessage(`{"Exists":true,"Value":"now"}`)
		}
	}
	w.Seq++
	out, _, err = encodeData(w, maxSize)
	if err != nil {
		t.Fatal(err)
	}
	second, err := DecodeData(out, first)
	if err != nil {
		t.Fatal(err)
	}
	for d, e := range second.Entries {
		same := reflect.ValueOf(e.Value).Kind() == reflect.Slice &&
			reflect.ValueOf(e.Value).Pointer() == reflect.ValueOf(first.Entries[d].Value).Pointer()
		if d == changed {
			if e.Value != (dep.KVValue{Exists: true, Value: "now"}) {
				t.Fatalf("changed answer: %#v", e.Value)
			}
			continue
		}
		if reflect.ValueOf(e.Value).Kind() == reflect.Slice && reflect.ValueOf(e.Value).Len() > 0 && !same {
			t.Errorf("%s was decoded again although unchanged", d)
		}
	}
}

func TestDecodeRefusesBadData(t *testing.T) {
	good := func(edit func(w *wireData)) []byte {
		w := sample(t)
		edit(&w)
		_, out, err := compress(&w)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	valid := good(func(*wireData) {})
	tests := []struct {
		name string
		raw  []byte
		is   error
		msg  string
	}{
		{"written by hand", []byte("hello"), ErrCorrupt, "not drcon dedup data"},
		{"consul-template's", gz([]byte("data")), ErrCorrupt, "not drcon dedup data"},
		{"not gzip", []byte("drcon-dedup-data/1\nhello"), ErrCorrupt, "not gzip"},
		{"truncated", valid[:len(valid)/2], ErrCorrupt, "decompress"},
		{"no header", v1([]byte("{nope")), ErrCorrupt, "no header"},
		{"a header that is not JSON", v1([]byte("{nope\n")), ErrCorrupt, "header: invalid character"},
		{"a newer version", []byte("drcon-dedup-data/2\nanything at all"), ErrNewerFormat, "version 2"},
		{"version 0", []byte("drcon-dedup-data/0\n"), ErrCorrupt, `version "0"`},
		{"a version that is no number", []byte("drcon-dedup-data/x\n"), ErrCorrupt, `version "x"`},
		{"no session", good(func(w *wireData) { w.Session = "" }), ErrCorrupt, "no identity or session"},
		{"id does not match", good(func(w *wireData) { w.Entries[0].ID = "kv.get(other)" }), ErrCorrupt, "id does not match"},
		{"listed twice", good(func(w *wireData) { w.Entries = append(w.Entries, w.Entries[0]) }), ErrCorrupt, "listed twice"},
		{"not shareable", good(func(w *wireData) {
			d := dep.Dependency{Kind: dep.KindCatalogNode}
			w.Entries[0] = wireEntry{ID: d.String(), Dependency: d.Wire(), Answer: json.RawMessage("null")}
		}), ErrCorrupt, "not shareable"},
		{"unknown kind", good(func(w *wireData) {
			w.Entries[0] = wireEntry{ID: "vault.secret(x)", Dependency: dep.Wire{Kind: "vault.secret", Name: "x"}, Answer: json.RawMessage("{}")}
		}), ErrCorrupt, "unknown dependency kind"},
		{"no answer", v1([]byte(`{"identity":"i","session":"s","entries":1}` + "\n" +
			`{"id":"kv.get(a)","dependency":{"kind":"kv.get","name":"a"}}` + "\n")), ErrCorrupt, "entry 1: no answer"},
		{"an empty answer", v1([]byte(`{"identity":"i","session":"s","entries":1}` + "\n" +
			`{"id":"kv.get(a)","dependency":{"kind":"kv.get","name":"a"}}` + "\t\n")), ErrCorrupt, "(kv.get(a)): no answer"},
		{"fewer entries than the header says", v1([]byte(`{"identity":"i","session":"s","entries":2}` + "\n" +
			`{"id":"kv.get(a)","dependency":{"kind":"kv.get","name":"a"}}` + "\t{\"Exists\":false,\"Value\":\"\"}\n")), ErrCorrupt, "1 entries, the header says 2"},
		{"a last line without its newline", v1([]byte(`{"identity":"i","session":"s","entries":1}` + "\n" +
			`{"id":"kv.get(a)","dependency":{"kind":"kv.get","name":"a"}}` + "\t{}")), ErrCorrupt, "cut short"},
		{"null for a key", good(func(w *wireData) {
			d := dep.Dependency{Kind: dep.KindKV, Name: "a"}
			w.Entries[0] = wireEntry{ID: d.String(), Dependency: d.Wire(), Answer: json.RawMessage("null")}
		}), ErrCorrupt, "null answer"},
		{"answer of the wrong type", good(func(w *wireData) {
			d := dep.Dependency{Kind: dep.KindKVList, Name: "x/"}
			w.Entries[0] = wireEntry{ID: d.String(), Dependency: d.Wire(), Answer: json.RawMessage(`{"a":1}`)}
		}), ErrCorrupt, "decode kv.list answer"},
	}
	for _, tt := range tests {
		d, err := DecodeData(tt.raw, nil)
		if d != nil || !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v, %v; want %v containing %q", tt.name, d, err, tt.is, tt.msg)
		}
	}
}

func TestAnswersThatDoNotSurviveJSONAreNotShared(t *testing.T) {
	d := dep.Dependency{Kind: dep.KindKV, Name: "bin"}
	if _, err := dep.EncodeValue(d.Kind, dep.KVValue{Exists: true, Value: "\xff\xfe"}); err == nil {
		t.Fatal("a value that is not UTF-8 was accepted")
	}
	if _, err := dep.EncodeValue(d.Kind, []string{"x"}); err == nil {
		t.Fatal("an answer of another kind's type was accepted")
	}
}

func TestFitDropsTheLargestAnswers(t *testing.T) {
	w := sample(t)
	// A large answer that compresses badly: distinct numbers.
	var big strings.Builder
	big.WriteString(`{"Exists":true,"Value":"`)
	for i := range 60000 {
		big.WriteString(strings.Repeat("x", i%7))
		big.WriteString(time.Duration(i * 7919).String())
	}
	big.WriteString(`"}`)
	bigDep := dep.Dependency{Kind: dep.KindKV, Name: "big"}
	w.Entries = append(w.Entries, wireEntry{ID: bigDep.String(), Dependency: bigDep.Wire(), Answer: json.RawMessage(big.String())})

	full, dropped, err := encodeData(w, maxSize)
	if err != nil || dropped != nil {
		t.Fatalf("at the default limit: %v, dropped %v", err, dropped)
	}
	limit := len(full) / 2
	out, dropped, err := encodeData(w, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > limit || !reflect.DeepEqual(dropped, []string{bigDep.String()}) {
		t.Fatalf("%d bytes (limit %d), dropped %v", len(out), limit, dropped)
	}
	d, err := DecodeData(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Entries[bigDep]; ok || len(d.Entries) != len(answers()) {
		t.Fatalf("%d entries; the big one kept: %v", len(d.Entries), ok)
	}
	if !strings.Contains(strings.Join(d.Omitted, " "), bigDep.String()) {
		t.Fatalf("omitted %v does not name the dropped answer", d.Omitted)
	}
	if _, _, err := encodeData(w, 100); err == nil {
		t.Fatal("a limit below the header's size was met")
	}
}

func TestBeatRoundTrip(t *testing.T) {
	b := Beat{Holder: "h:1", Drcon: "v1", Session: "s", Seq: 3, At: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Published: 9, Error: "too big", Released: true, TTL: 45 * time.Second}
	got, err := decodeBeat(encodeBeat(b))
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("%+v, %v", got, err)
	}
	for _, raw := range []string{"", "{}", `{"format":"drcon-dedup-lock","version":2}`, "garbage",
		`{"format":"drcon-dedup-lock","version":1,"ttl":"soon"}`} {
		if _, err := decodeBeat([]byte(raw)); err == nil {
			t.Errorf("%q was read as a beat", raw)
		}
	}
}
