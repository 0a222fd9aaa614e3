package main

import (
	"fmt"
	"io"

	"github.com/drcon/drcon/agent"
)

// cmdValidate parses and checks the configuration and every template, with
// no network. Every problem is printed, each starting with file:line:col.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("drcon validate", stderr)
	var c common
	c.register(fs)
	if code, ok := c.parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drcon validate: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := c.load()
	if err != nil {
		return loadExit(stderr, err)
	}
	if len(cfg.Warnings) > 0 {
		_, _ = cfg.WriteWarnings(stderr, false)
	}
	if err := agent.Validate(cfg); err != nil {
		printErrors(stderr, err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "configuration is valid: %d template(s), %d registrator(s)", len(cfg.Templates), len(cfg.Registrators))
	if cfg.Exec.Enabled() {
		fmt.Fprintf(stdout, ", exec %s", cfg.Exec.Command)
	}
	fmt.Fprintln(stdout)
	return exitOK
}
