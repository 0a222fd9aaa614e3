package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/drcon/drcon/config"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// common are the flags that locate and override the configuration; every
// subcommand that reads a configuration has them.
type common struct {
	configs   listFlag
	overrides config.Overrides
	templates listFlag
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.configs, "config", "configuration file or directory of *.hcl files (repeatable; files merge)")
	fs.Var(&c.templates, "template", `template job "source:destination[:command]" (repeatable), as consul-template's`)
	fs.StringVar(&c.overrides.ConsulAddr, "consul-addr", "", "Consul address (overrides consul { address })")
	fs.StringVar(&c.overrides.ConsulToken, "consul-token", "", "Consul ACL token (overrides consul { token })")
	fs.StringVar(&c.overrides.Wait, "wait", "", "default quiescence min[:max], e.g. 2s:10s")
	fs.StringVar(&c.overrides.LogLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&c.overrides.KillSignal, "kill-signal", "", "signal that stops drcon gracefully (SIGTERM always does)")
	fs.StringVar(&c.overrides.ReloadSignal, "reload-signal", "", "signal that reloads the configuration")
	fs.StringVar(&c.overrides.MaxStale, "max-stale", "", "accept stale answers up to this age, e.g. 2s")
	fs.StringVar(&c.overrides.PidFile, "pid-file", "", "write the process id to this file")
	fs.StringVar(&c.overrides.RetryAttempts, "consul-retry-attempts", "", "failed queries in a row before a dependency fails (overrides consul { retry { attempts } }; 0: never)")
	fs.StringVar(&c.overrides.RetryBackoff, "consul-retry-backoff", "", "first wait after a failed query, e.g. 250ms")
	fs.StringVar(&c.overrides.RetryMaxBackoff, "consul-retry-max-backoff", "", "longest wait between failed queries, e.g. 1m")
}

// load reads the configuration the flags point at.
func (c *common) load() (*config.Config, error) {
	o := c.overrides
	o.Templates = c.templates
	return config.Load(c.configs, o)
}

// printConfigError writes a configuration error with its diagnostics.
func printConfigError(w io.Writer, err error) {
	if ce, ok := err.(*config.Error); ok {
		_, _ = ce.WriteTo(w, false)
		return
	}
	fmt.Fprintln(w, "drcon:", err)
}

// newFlagSet is a flag set that reports errors to stderr and returns them.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
