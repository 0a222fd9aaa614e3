package render

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/drcon/drcon/config"
)

// Environment is the whole environment of a template's command or of exec
// mode's child, built as consul-template builds it from exec { env { } }:
// the agent's environment (environ) with only the names that match an
// allowlist glob, if any, and none that match a denylist glob — or nothing
// when pristine — then drcon's variables (agent: CONSUL_HTTP_ADDR etc.),
// then the custom NAME=value entries. os/exec keeps the last value of a name given twice.
func Environment(environ []string, e config.CommandEnv, agent []string) []string {
	match := func(name string, globs []string) bool {
		return slices.ContainsFunc(globs, func(g string) bool {
			ok, _ := filepath.Match(g, name) // the patterns were checked when the configuration loaded
			return ok
		})
	}
	var env []string
	if !e.Pristine {
		for _, kv := range environ {
			name, _, _ := strings.Cut(kv, "=")
			if (len(e.Allowlist) == 0 || match(name, e.Allowlist)) && !match(name, e.Denylist) {
				env = append(env, kv)
			}
		}
	}
	env = append(env, agent...)
	return append(env, e.Custom...)
}
