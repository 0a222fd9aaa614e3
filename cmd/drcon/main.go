// Command drcon is one agent for the DR CoN pattern: it renders
// consul-template templates from Consul and registers Docker containers in
// Consul, configured by HCL files. This package owns the command line: flags
// (consul-template's common ones included), subcommands, signals and exit
// codes; the work is done by package agent.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/drcon/drcon/cmd/drcon/internal/version"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0 // success, also after a graceful stop
	exitError   = 1 // any other failure (the status address in use, say), a second stop signal, -once interrupted
	exitUsage   = 2 // bad flags or arguments
	exitConfig  = 3 // the configuration or a template does not parse or validate, or a job cannot be built
	exitRender  = 4 // -once: a render, check or command failed; or on_command_failure = "exit"
	exitTimeout = 5 // -once: data did not arrive within -timeout
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "validate":
			return cmdValidate(args[1:], stdout, stderr)
		case "snapshot":
			return cmdSnapshot(args[1:], stdout, stderr)
		case "status":
			return cmdStatus(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "drcon", version.String())
			return exitOK
		case "help":
			usage(stdout)
			return exitOK
		}
	}
	return cmdRun(args, stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  drcon -config PATH [flags]            run every template and registrator job until a signal
  drcon -once [-dry] -config PATH       render every template once and exit
  drcon validate -config PATH           check the configuration and every template, offline
  drcon snapshot -config PATH -o FILE   save the data the templates use, for -data
  drcon status [-addr HOST:PORT | -config PATH]   show a running agent's jobs
  drcon version

Exit codes: 0 success or graceful stop, 1 other failure or a second stop
signal, 2 usage, 3 configuration or template, 4 a render, check or command
failed (-once; on_command_failure = "exit"), 5 -once timed out.

Run "drcon -h" for the flags.
`)
}
