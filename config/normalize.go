package config

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// normalize rewrites one file's consul-template aliases into drcon's keys and
// reports what drcon refuses, before files are merged, so that an alias in
// one file and drcon's spelling in another merge as the same setting.
func (l *loader) normalize(f *rawFile) {
	if f.WaitAttr != nil && f.Wait != nil {
		l.errorAt(f.Wait.DefRange, "Duplicate wait", "wait is set at %s and by this block; use either wait = \"min:max\" or a wait block.", l.pos(f.WaitAttr.NameRange))
	}
	if f.ConsulAttr != nil {
		l.normalizeLegacyConsul(f)
	}
	if f.Consul != nil {
		l.normalizeConsul(f.Consul)
	}
	if f.Deduplicate != nil {
		if f.Dedup != nil {
			l.errorAt(f.Deduplicate.DefRange, "Duplicate dedup", "deduplicate is consul-template's name for dedup, which is also given at %s; keep one.", l.pos(f.Dedup.DefRange))
		} else {
			f.Dedup, f.Deduplicate = f.Deduplicate, nil
		}
	}
	if f.Dedup != nil {
		for _, a := range []*hcl.Attribute{f.Dedup.MaxStale, f.Dedup.BlockQueryWait} {
			if a != nil {
				l.warnAt(a.NameRange, "Ignored setting", "drcon's dedup uses the top-level %s; this one is ignored.", a.Name)
			}
		}
	}
	l.refuse(f)
}

// normalizeLegacyConsul reads consul-template's old `consul = "addr"`.
func (l *loader) normalizeLegacyConsul(f *rawFile) {
	a := f.ConsulAttr
	f.ConsulAttr = nil
	if _, ok := a.Expr.(*hclsyntax.ObjectConsExpr); ok {
		l.errorAt(a.NameRange, "Block written as an argument", "HCL 1 read consul = { ... } as a block; in drcon's HCL write consul { ... }, without \"=\".")
		return
	}
	if f.Consul != nil && f.Consul.Address != nil {
		l.errorAt(a.NameRange, "Duplicate consul address", "consul = \"...\" is the old spelling of consul { address }, which is also set at %s; keep one.", l.pos(f.Consul.Address.NameRange))
		return
	}
	l.warnAt(a.NameRange, "Deprecated setting", "consul = \"...\" is deprecated; write consul { address = \"...\" }.")
	if f.Consul == nil {
		f.Consul = &rawConsul{}
	}
	f.Consul.Address = a
}

// normalizeConsul folds consul-template's ssl block into tls.
func (l *loader) normalizeConsul(c *rawConsul) {
	if c.Transport != nil {
		l.warnAt(c.Transport.DefRange, "Ignored block", "drcon tunes its own HTTP transport to Consul (one connection pool for all watches); transport {} is ignored.")
	}
	if c.SSL == nil {
		return
	}
	if c.TLS != nil {
		l.errorAt(c.SSL.DefRange, "Duplicate tls", "ssl is consul-template's name for tls, which is also given at %s; keep one.", l.pos(c.TLS.DefRange))
		return
	}
	s := c.SSL
	c.TLS = &rawTLS{
		DefRange: s.DefRange, Enabled: s.Enabled, CAFile: s.CACert, CAPath: s.CAPath,
		CertFile: s.Cert, KeyFile: s.Key, ServerName: s.ServerName, Verify: s.Verify, CACertBytes: s.CACertBytes,
	}
	c.SSL = nil
}
