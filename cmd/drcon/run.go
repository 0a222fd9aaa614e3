package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/jobs/render"
	"github.com/drcon/drcon/template/snapshot"
)

// cmdRun runs the agent: as a daemon, or once with -once / -dry.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("drcon", stderr)
	var c common
	c.register(fs)
	once := fs.Bool("once", false, "render every template once, run commands, and exit")
	dry := fs.Bool("dry", false, "print renders to stdout under '> DESTINATION' lines; write no file, run no command")
	timeout := fs.Duration("timeout", 60*time.Second, "with -once: give up waiting for data after this long")
	data := fs.String("data", "", "with -once or -dry: render from this snapshot file instead of Consul")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.BoolVar(showVersion, "v", false, "print the version and exit")
	fs.Usage = func() { usage(stderr); fmt.Fprintln(stderr, "\nFlags:"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "drcon", version)
		return exitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drcon: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *data != "" && !*once && !*dry {
		fmt.Fprintln(stderr, "drcon: -data needs -once or -dry")
		return exitUsage
	}
	cfg, err := c.load()
	if err != nil {
		printConfigError(stderr, err)
		return exitConfig
	}
	logging := agent.NewLogging(stderr, cfg.LogLevel, cfg.LogFormat)
	for _, w := range cfg.Warnings {
		logging.Logger().Warn(w.Summary, "detail", w.Detail, "at", rangeString(w))
	}
	opts := agent.Options{
		Load:    c.load,
		Logging: logging,
		Version: version,
		Once:    *once || *dry && *data != "",
		Dry:     *dry,
		DryOut:  stdout,
		Timeout: *timeout,
	}
	if *data != "" {
		f, err := os.Open(*data)
		if err != nil {
			fmt.Fprintln(stderr, "drcon:", err)
			return exitUsage
		}
		store, err := snapshot.Read(f)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "drcon: read snapshot %s: %v\n", *data, err)
			return exitConfig
		}
		opts.Data = func() render.Source { return store.View() }
	}
	a, err := agent.New(cfg, opts)
	if err != nil {
		fmt.Fprintln(stderr, "drcon:", err)
		return exitConfig
	}
	ctx := context.Background()
	if opts.Once {
		return onceExit(stderr, a.Once(ctx))
	}
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "drcon:", err)
		if errors.Is(err, render.ErrExitRequested) {
			return exitRender
		}
		return exitError
	}
	return exitOK
}

// onceExit reports the outcome of a -once run and picks its exit code.
func onceExit(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, agent.ErrOnceTimeout):
		fmt.Fprintln(stderr, "drcon:", err)
		return exitTimeout
	case errors.Is(err, agent.ErrInvalidJob):
		fmt.Fprintln(stderr, "drcon:", err)
		return exitConfig
	default:
		fmt.Fprintln(stderr, "drcon:", err)
		return exitRender
	}
}
