package dep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// Wire is a Dependency as drcon writes it down (snapshots, dedup data):
// field by field under fixed JSON names, so that renaming a Go field never
// changes a format.
type Wire struct {
	Kind               string `json:"kind"`
	Name               string `json:"name,omitempty"`
	Tag                string `json:"tag,omitempty"`
	DC                 string `json:"dc,omitempty"`
	Near               string `json:"near,omitempty"`
	Filter             string `json:"filter,omitempty"`
	Namespace          string `json:"namespace,omitempty"`
	Partition          string `json:"partition,omitempty"`
	Peer               string `json:"peer,omitempty"`
	SamenessGroup      string `json:"sameness_group,omitempty"`
	IgnoreInaccessible bool   `json:"ignore_inaccessible,omitempty"`
}

// Wire is d's written form.
func (d Dependency) Wire() Wire {
	return Wire{
		Kind: string(d.Kind), Name: d.Name, Tag: d.Tag, DC: d.DC, Near: d.Near, Filter: d.Filter,
		Namespace: d.Namespace, Partition: d.Partition, Peer: d.Peer, SamenessGroup: d.SamenessGroup,
		IgnoreInaccessible: d.IgnoreInaccessible,
	}
}

// Dependency is the dependency w writes down.
func (w Wire) Dependency() Dependency {
	return Dependency{
		Kind: Kind(w.Kind), Name: w.Name, Tag: w.Tag, DC: w.DC, Near: w.Near, Filter: w.Filter,
		Namespace: w.Namespace, Partition: w.Partition, Peer: w.Peer, SamenessGroup: w.SamenessGroup,
		IgnoreInaccessible: w.IgnoreInaccessible,
	}
}

// Marshal is json.Marshal without HTML escaping, so that PEM blocks and
// values holding <, > or & stay readable.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// EncodeValue is the JSON of v, an answer of kind k, after checking that v
// has the kind's type and that the JSON decodes back to exactly v: an
// answer that would not survive (a KV value that is not UTF-8) is never
// written, so that what is read back renders the same bytes.
func EncodeValue(k Kind, v any) ([]byte, error) {
	zero, err := NewValue(k)
	if err != nil {
		return nil, err
	}
	if want := reflect.TypeOf(zero).Elem(); reflect.TypeOf(v) != want {
		return nil, fmt.Errorf("answer is a %T, want a %s", v, want)
	}
	raw, err := Marshal(v)
	if err != nil {
		return nil, err
	}
	back, err := DecodeValue(k, raw)
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(back, v) {
		return nil, errors.New("answer does not survive JSON unchanged (a value that is not UTF-8?)")
	}
	return raw, nil
}
