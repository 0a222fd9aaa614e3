package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	agent.LogWarnings(logging.Logger(), cfg.Warnings)
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
	if flagSet(fs, "timeout") && !opts.Once {
		// A daemon waits for data for as long as it runs.
		logging.Logger().Warn("-timeout only applies with -once: ignored", "timeout", timeout.String())
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
		return onceExit(stderr, interruptible(a, logging.Logger(), a.Once))
	}
	return runExit(stderr, a.Run(context.Background()))
}

// interruptible runs f, a -once run or a snapshot, with a context that the
// first SIGINT or SIGTERM cancels, so that the run stops its jobs and says
// what they were waiting for. A second one returns agent.ErrForced without
// waiting for f, once a.Kill has killed the commands and the child the run
// started, as the daemon does: the default action would end drcon and
// leave them running. SIGHUP is ignored: a run that reads its
// configuration once has nothing to reload, and starting over, as
// consul-template does, would run commands a second time.
func interruptible(a *agent.Agent, log *slog.Logger, f func(context.Context) error) error {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		case sig := <-sigs:
			switch {
			case sig == syscall.SIGHUP:
				log.Info("signal ignored: this run reads its configuration once", "signal", sig.String())
			case ctx.Err() == nil:
				log.Info("stopping", "signal", sig.String())
				cancel(interrupted{sig})
			default:
				log.Warn("second signal: exiting at once", "signal", sig.String())
				a.Kill()
				return agent.ErrForced
			}
		}
	}
}

// interrupted is the cause of a run stopped by a signal: a context.Canceled
// that names it, as signal.NotifyContext's does.
type interrupted struct{ sig os.Signal }

func (e interrupted) Error() string        { return e.sig.String() + " signal received" }
func (e interrupted) Is(target error) bool { return target == context.Canceled }

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
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
	case errors.Is(err, render.ErrExitRequested), errors.Is(err, render.ErrTemplateFatal):
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
// timeout; an interrupted run is neither, and one a second signal ended is
// an error.
func onceExit(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if code, ok := childExit(stderr, err); ok {
		return code
	}
	printErrors(stderr, err)
	if errors.Is(err, agent.ErrForced) {
		return exitError
	}
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
