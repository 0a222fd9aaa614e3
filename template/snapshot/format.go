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
	Dependency dependency      `json:"dependency"`
	Answer     json.RawMessage `json:"answer"`
}

// dependency is dep.Dependency as written in the file: field by field, so
// that renaming a Go field never changes the format.
type dependency struct {
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

func fromDep(d dep.Dependency) dependency {
	return dependency{
		Kind: string(d.Kind), Name: d.Name, Tag: d.Tag, DC: d.DC, Near: d.Near, Filter: d.Filter,
		Namespace: d.Namespace, Partition: d.Partition, Peer: d.Peer, SamenessGroup: d.SamenessGroup,
		IgnoreInaccessible: d.IgnoreInaccessible,
	}
}

func (d dependency) dep() dep.Dependency {
	return dep.Dependency{
		Kind: dep.Kind(d.Kind), Name: d.Name, Tag: d.Tag, DC: d.DC, Near: d.Near, Filter: d.Filter,
		Namespace: d.Namespace, Partition: d.Partition, Peer: d.Peer, SamenessGroup: d.SamenessGroup,
		IgnoreInaccessible: d.IgnoreInaccessible,
	}
}
