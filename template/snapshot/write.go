package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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
		raw, err := dep.EncodeValue(d.Kind, v)
		if err != nil {
			return fmt.Errorf("write snapshot: %s: %w", d, err)
		}
		f.Entries = append(f.Entries, entry{ID: d.String(), Dependency: d.Wire(), Answer: raw})
	}
	slices.SortFunc(f.Entries, func(a, b entry) int { return strings.Compare(a.ID, b.ID) })
	out, err := dep.Marshal(f)
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
