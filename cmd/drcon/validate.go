package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/drcon/drcon/template"
)

// cmdValidate parses and checks the configuration and parses every template,
// with no network.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("drcon validate", stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	cfg, err := c.load()
	if err != nil {
		printConfigError(stderr, err)
		return exitConfig
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(stderr, "warning: %s: %s %s\n", rangeString(w), w.Summary, w.Detail)
	}
	failed := 0
	for _, t := range cfg.Templates {
		name := t.Source
		if name == "" {
			name = fmt.Sprintf("template %q (%s)", t.Name, t.DeclRange.String())
		}
		if _, err := template.Parse(t.Text, template.Options{
			Name: name, LeftDelim: t.LeftDelimiter, RightDelim: t.RightDelimiter,
			ErrOnMissingKey: t.ErrorOnMissingKey, FunctionDenylist: t.FunctionDenylist, SandboxPath: t.SandboxPath,
		}); err != nil {
			fmt.Fprintln(stderr, err)
			failed++
		}
	}
	if failed > 0 {
		return exitConfig
	}
	fmt.Fprintf(stdout, "configuration is valid: %d template(s), %d registrator(s)\n",
		len(cfg.Templates), len(cfg.Registrators))
	return exitOK
}

// rangeString is where a diagnostic points, or "" when it points nowhere.
func rangeString(d *hcl.Diagnostic) string {
	if d.Subject == nil {
		return ""
	}
	return d.Subject.String()
}
