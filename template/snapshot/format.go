// Package snapshot is offline dependency data for CI: a versioned JSON file
// holding the answer to each dependency, written from live data and read
// back as a Source that renders the same bytes without Consul.
//
// The file is an object {"format": "drcon-snapshot", "version": 1,
// "entries": [...]}; each entry holds the dependency's canonical string
// ("id", informative, checked on read), its fields ("dependency") and its
// answer as the JSON of its Go type ("answer"). Entries are sorted by id and
// indented, so that a snapshot kept in git diffs well and can be edited by
// hand.
package snapshot

import (
	"encoding/json"

	"github.com/drcon/drcon/template/dep"
)

const (
	formatName = "drcon-snapshot"
	// Version is the format version this package writes and the newest it reads.
	Version = 1
)

type file struct {
	Format  string  `json:"format"`
	Version int     `json:"version"`
	Entries []entry `json:"entries"`
}

type entry struct {
	ID         string          `json:"id,omitempty"`
	Dependency dep.Wire        `json:"dependency"`
	Answer     json.RawMessage `json:"answer"`
}
