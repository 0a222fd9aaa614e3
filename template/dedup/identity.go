package dedup

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// identityTag is hashed into every identity: a future change of what an
// identity covers changes the tag, so that agents of both versions land on
// different keys instead of mixing.
const identityTag = "drcon-dedup-identity/1"

// Identity names a set of dependencies by their canonical strings
// (dep.Dependency.String(), which carries the datacenter and the query
// options): the first 128 bits of the SHA-256 of the sorted, deduplicated
// strings, in hex. The order and repetitions of set do not matter.
func Identity(set []string) string {
	s := slices.Clone(set)
	slices.Sort(s)
	s = slices.Compact(s)
	h := sha256.New()
	h.Write([]byte(identityTag))
	for _, d := range s {
		h.Write([]byte{'\n'})
		h.Write([]byte(d))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// normalizePrefix makes a KV prefix end in "/" and not start with one
// (Consul keys have no leading slash).
func normalizePrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// keys are a group's KV keys.
type keys struct {
	id, lock, data string
}

func groupKeys(prefix, id string) keys {
	return keys{id: id, lock: prefix + id + "/lock", data: prefix + id + "/data"}
}
