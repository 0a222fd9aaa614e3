// Package version holds drcon's version, which `make build` stamps with
// -ldflags "-X github.com/drcon/drcon/cmd/drcon/internal/version.Version=...".
package version

import "runtime/debug"

// Version is set at build time; String falls back to the module version
// that `go install` records.
var Version = ""

// String is the version to show.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
