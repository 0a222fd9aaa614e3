// Package config owns drcon's configuration: the HCL schema, Load (files,
// directories, flags and the environment merged into one validated Config),
// defaults, the consul-template compatibility aliases, and per-job
// fingerprints for reload by diff.
//
// It is pure logic: it reads configuration files and template sources and
// nothing else. Every problem it finds is an hcl.Diagnostic with the file,
// line and column it is about, and Load reports all of them at once.
package config
