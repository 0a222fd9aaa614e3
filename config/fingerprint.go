package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/hashicorp/hcl/v2"
)

// Fingerprints let a reload compare jobs by value: an untouched job keeps its
// fingerprint and keeps running; any change that shapes it changes the
// fingerprint. Source ranges are left out, so that moving a block within or
// between files changes nothing.

// Fingerprint hashes everything that shapes the template job, its Text
// included.
func (t *Template) Fingerprint() string {
	c := *t
	c.DeclRange = hcl.Range{}
	return hash(c)
}

// Fingerprint hashes everything that shapes the registrator job.
func (r *Registrator) Fingerprint() string {
	c := *r
	c.DeclRange = hcl.Range{}
	return hash(c)
}

// Fingerprint hashes how drcon reaches Consul; every job depends on it.
func (c Consul) Fingerprint() string { return hash(c) }

// Fingerprint hashes the whole configuration as it takes effect, so that two
// loads with equal fingerprints need no change at all. The file names and
// the warnings are left out: they do not change what drcon does.
func (c *Config) Fingerprint() string {
	v := *c
	v.Files, v.Warnings, v.files = nil, nil, nil
	v.Templates = nil
	v.Registrators = nil
	jobs := make([]string, 0, len(c.Templates)+len(c.Registrators))
	for _, t := range c.Templates {
		jobs = append(jobs, t.Fingerprint())
	}
	for _, r := range c.Registrators {
		jobs = append(jobs, r.Fingerprint())
	}
	return hash(struct {
		Config
		Jobs []string
	}{v, jobs})
}

// hash is a SHA-256 of v's Go syntax representation, which is deterministic
// for the plain values hashed here (fmt sorts map keys).
func hash(v any) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%#v", v))
	return hex.EncodeToString(sum[:])
}
