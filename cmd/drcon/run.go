package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/cmd/drcon/internal/version"
	"github.com/drcon/drcon/jobs/child"
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
	timeout := addTimeout(fs, "with -once: give up waiting for data after this long (0: never)")
	data := fs.String("data", "", "with -once or -dry: render from this snapshot file instead of Consul")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.BoolVar(showVersion, "v", false, "print the version and exit")
	fs.Usage = func() { usage(stderr); fmt.Fprintln(stderr, "\nFlags:"); printFlags(stderr, fs) }
	if code, ok := c.parse(fs, args, stderr); !ok {
		return code
	}
	if *showVersion {
		fmt.Fprintln(stdout, "drcon", version.String())
		return exitOK
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drcon: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	c.overrides.Dry = *dry
	if *data != "" && !*once && !*dry {
		fmt.Fprintln(stderr, "drcon: -data needs -once or -dry")
		return exitUsage
	}
	cfg, err := c.load()
	if err != nil {
		return loadExit(stderr, err)
	}
	logging := agent.NewLogging(stderr, cfg.LogLevel, cfg.LogFormat)
	for _, set := range []func() error{
		func() error { return logging.SetSyslog(cfg.Syslog) },
		func() error { return logging.SetLogFile(cfg.LogFile) },
	} {
		if err := set(); err != nil {
			fmt.Fprintln(stderr, "drcon:", err)
			return exitConfig
		}
	}
	for _, w := range cfg.Warnings {
		logging.Logger().Warn(w.Summary, "detail", w.Detail, "at", rangeString(w))
	}
	opts := agent.Options{
		Load:    c.load,
		Logging: logging,
		Version: version.String(),
		// A snapshot never changes: rendering it more than once would
		// print the same thing forever.
		Once:    *once || *dry && *data != "",
		Dry:     *dry,
		DryOut:  stdout,
		Timeout: *timeout,
	}
	if *data != "" {
		store, code := readSnapshot(stderr, *data)
		if store == nil {
			return code
		}
		opts.Data = func() render.Source { return store.View() }
	}
	a, err := agent.New(cfg, opts)
	if err != nil {
		fmt.Fprintln(stderr, "drcon:", err)
		return exitError
	}
	if opts.Once {
		return onceExit(stderr, a.Once(interruptible()))
	}
	return runExit(stderr, a.Run(context.Background()))
}

// interruptible is a context that the first SIGINT or SIGTERM cancels, so
// that an interrupted -once run stops its jobs and says what they were
// waiting for; a second signal has its default effect and ends the process
// at once.
func interruptible() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx
}

// readSnapshot reads the -data file; a nil store comes with the exit code.
func readSnapshot(stderr io.Writer, path string) (*snapshot.Store, int) {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "drcon: -data:", err)
		return nil, exitUsage
	}
	defer f.Close()
	store, err := snapshot.Read(f)
	if err != nil {
		fmt.Fprintf(stderr, "drcon: read snapshot %s: %v\n", path, err)
		return nil, exitConfig
	}
	return store, exitOK
}

// runExit reports the end of a daemon run and picks its exit code.
func runExit(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if code, ok := childExit(stderr, err); ok {
		return code
	}
	printErrors(stderr, err)
	switch {
	case errors.Is(err, agent.ErrInvalid):
		return exitConfig
	case errors.Is(err, render.ErrExitRequested):
		return exitRender
	default:
		return exitError
	}
}

// childExit is the exit code of a run that ended because exec mode's child
// did, which is the child's own, as in consul-template; ok is false for
// other errors.
func childExit(stderr io.Writer, err error) (code int, ok bool) {
	var exit *child.ExitError
	if !errors.As(err, &exit) {
		return 0, false
	}
	if exit.Code != 0 {
		fmt.Fprintln(stderr, "drcon:", exit)
	}
	return exit.Code, true
}

// onceExit reports the outcome of a -once run and picks its exit code: a
// job that could not be built is a configuration error; a render, check or
// command that failed beats a template still waiting for data at the
// timeout; an interrupted run is neither.
func onceExit(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if code, ok := childExit(stderr, err); ok {
		return code
	}
	printErrors(stderr, err)
	code := exitError
	for _, e := range split(err) {
		switch {
		case errors.Is(e, agent.ErrInvalid):
			return exitConfig
		case errors.Is(e, agent.ErrOnceTimeout):
			if code == exitError {
				code = exitTimeout
			}
		case errors.Is(e, context.Canceled):
		default:
			code = exitRender
		}
	}
	return code
}

// printErrors prints each of the joined errors of err on a line of its
// own. A job's error starts with where its block is, file:line:col, for
// editors to jump to.
func printErrors(w io.Writer, err error) {
	for _, e := range split(err) {
		msg := strings.TrimSpace(e.Error())
		if !errors.As(e, new(*agent.JobError)) {
			msg = "drcon: " + msg
		}
		fmt.Fprintln(w, msg)
	}
}

// split undoes errors.Join.
func split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
