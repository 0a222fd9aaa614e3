// Package api holds drcon's mirror of consul/api.CARoot, the answer type
// of caRoots. It is named api because %T and %#v print the package name
// with the type ({{ range caRoots }}{{ printf "%#v" . }}{{ end }} renders
// &api.CARoot{...} in consul-template), so the name is part of the output.
// Package dep aliases the type; use it through dep.
package api

// CARoot is a Connect CA root certificate. It mirrors api.CARoot of the
// consul/api consul-template v0.41.1 is built with (v1.32.1): later versions
// add NotBefore, NotAfter and DaysRemaining, which would change the bytes of
// {{ caRoots | toJSON }}.
type CARoot struct {
	ID          string
	Name        string
	RootCertPEM string `json:"RootCert"`
	Active      bool
	CreateIndex uint64
	ModifyIndex uint64
}
