package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/cmd/drcon/internal/version"
	"github.com/drcon/drcon/template/snapshot"
)

// cmdSnapshot saves the answer of every dependency the templates use.
func cmdSnapshot(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("drcon snapshot", stderr)
	var c common
	c.register(fs)
	out := fs.String("o", "", "write the snapshot to this file (default stdout)")
	timeout := addTimeout(fs, "give up waiting for data after this long (0: never)")
	if code, ok := c.parse(fs, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "drcon snapshot: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := c.load()
	if err != nil {
		return loadExit(stderr, err)
	}
	logging := agent.NewLogging(stderr, cfg.LogLevel, cfg.LogFormat)
	a, err := agent.New(cfg, agent.Options{Load: c.load, Logging: logging, Version: version.String(),
		Once: true, Dry: true, DryOut: io.Discard, Timeout: *timeout})
	if err != nil {
		fmt.Fprintln(stderr, "drcon:", err)
		return exitConfig
	}
	w := stdout
	var tmp *os.File
	if *out != "" {
		// Written beside -o and renamed over it, so that a failed run
		// leaves the last snapshot whole; errors name -o, not the temp file.
		tmp, err = os.CreateTemp(filepath.Dir(*out), ".drcon-snapshot-*")
		if err != nil {
			fmt.Fprintf(stderr, "drcon snapshot: -o %s: %v\n", *out, err)
			return exitError
		}
		defer os.Remove(tmp.Name())
		w = tmp
	}
	if err := interruptible(a, logging.Logger(), func(ctx context.Context) error { return a.SaveSnapshot(ctx, w, snapshot.Write) }); err != nil {
		if tmp != nil {
			tmp.Close()
		}
		if errors.As(err, new(*agent.JobError)) {
			return onceExit(stderr, err)
		}
		fmt.Fprintln(stderr, "drcon snapshot:", err)
		return exitError
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			fmt.Fprintf(stderr, "drcon snapshot: -o %s: %v\n", *out, err)
			return exitError
		}
		if err := os.Rename(tmp.Name(), *out); err != nil {
			fmt.Fprintf(stderr, "drcon snapshot: -o %s: %v\n", *out, err)
			return exitError
		}
	}
	return exitOK
}
