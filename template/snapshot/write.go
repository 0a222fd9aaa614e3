package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/drcon/drcon/template/dep"
)

// Write writes the answers in data as a snapshot. Each answer must be of its
// kind's type (as Fetch returns it) and must survive JSON unchanged, which
// Write checks, so that a snapshot never renders differently from the live
// data it was taken from: an answer holding bytes that are not UTF-8 (a
// binary KV value) is refused with an error naming its dependency.
func Write(w io.Writer, data map[dep.Dependency]any) error {
	f := file{Format: formatName, Version: Version, Entries: make([]entry, 0, len(data))}
	for d, v := range data {
		raw, err := answer(d, v)
		if err != nil {
			return fmt.Errorf("write snapshot: %s: %w", d, err)
		}
		f.Entries = append(f.Entries, entry{ID: d.String(), Dependency: fromDep(d), Answer: raw})
	}
	slices.SortFunc(f.Entries, func(a, b entry) int { return strings.Compare(a.ID, b.ID) })
	out, err := encode(f)
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, out, "", "  "); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	indented.WriteByte('\n')
	if _, err := indented.WriteTo(w); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// encode is json.Marshal without HTML escaping, so that PEM blocks and
// values holding <, > or & stay readable in the file.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// answer encodes v, the answer to d, after checking that it has the kind's
// type and that its JSON decodes back to exactly v.
func answer(d dep.Dependency, v any) ([]byte, error) {
	zero, err := dep.NewValue(d.Kind)
	if err != nil {
		return nil, err
	}
	if want := reflect.TypeOf(zero).Elem(); reflect.TypeOf(v) != want {
		return nil, fmt.Errorf("answer is a %T, want a %s", v, want)
	}
	raw, err := encode(v)
	if err != nil {
		return nil, err
	}
	back, err := dep.DecodeValue(d.Kind, raw)
	if err != nil {
		return nil, err
	}
	if !reflect.DeepEqual(back, v) {
		return nil, fmt.Errorf("answer does not survive JSON unchanged (a value that is not UTF-8?)")
	}
	return raw, nil
}
