package config

import "github.com/hashicorp/hcl/v2"

// refuse reports the consul-template keys that drcon does not take, each
// with what to do instead.
func (l *loader) refuse(f *rawFile) {
	blocks := []struct {
		list   []*rawAny
		name   string
		detail string
	}{
		{f.Vault, "vault", "drcon reads Consul only; for Vault secrets use Vault Agent's templates."},
		{f.Nomad, "nomad", "drcon reads Consul only; Nomad services and variables are not supported."},
	}
	for _, b := range blocks {
		for _, r := range b.list {
			l.errorAt(r.DefRange, "Unsupported block", "%s {} is not supported by drcon. %s", b.name, b.detail)
		}
	}
	if f.Once != nil {
		// consul-template reads it and never acts on it (only the flag
		// does): ignoring it keeps what such a file did there.
		l.warnAt(f.Once.NameRange, "Ignored setting", "once in a file is ignored, as consul-template ignores it; use the -once flag.")
	}
	// Settings whose false is drcon's behaviour load; true is refused, for
	// drcon cannot honour it and ignoring it would change what the file
	// means.
	for _, r := range []struct {
		a      *hcl.Attribute
		detail string
	}{
		{f.ParseOnly, "Use drcon validate, or the -once and -dry flags, to check a configuration without writing files."},
		{f.ParseOnlyCT, "Use drcon validate, or the -once and -dry flags, to check a configuration without writing files."},
	} {
		var on bool
		if l.boolean(r.a, &on) && on {
			l.errorAt(r.a.NameRange, "Unsupported argument", "%s = true is not supported by drcon. %s", r.a.Name, r.detail)
		}
	}
}
