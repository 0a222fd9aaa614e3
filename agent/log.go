package agent

import (
	"context"
	"io"
	"log/slog"
	"log/syslog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drcon/drcon/config"
)

// Logging is the process's logger whose level, format and syslog copy
// change on reload without replacing the *slog.Logger that jobs already
// hold.
type Logging struct {
	level   slog.LevelVar
	handler atomic.Pointer[slog.Handler]
	out     io.Writer

	mu        sync.Mutex // serialises changes
	format    string
	syslogCfg config.Syslog
	syslogW   *syslog.Writer // nil without syslog
	fileCfg   config.LogFile
	file      *logFile // nil without log_file
}

// NewLogging logs to out in format ("text" | "json") at level.
func NewLogging(out io.Writer, level, format string) *Logging {
	l := &Logging{out: out}
	l.Set(level, format)
	return l
}

// Logger is a logger that follows Set.
func (l *Logging) Logger() *slog.Logger { return slog.New(switchHandler{l: l}) }

// Set changes level and format.
func (l *Logging) Set(level, format string) {
	l.level.Set(ParseLevel(level))
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.format == format && l.handler.Load() != nil {
		return
	}
	l.format = format
	l.rebuild()
}

// rebuild makes the handler of the current format and syslog copy; l.mu
// is held.
func (l *Logging) rebuild() {
	opts := &slog.HandlerOptions{Level: &l.level}
	format := func(w io.Writer) slog.Handler {
		if l.format == "json" {
			return slog.NewJSONHandler(w, opts)
		}
		return slog.NewTextHandler(w, opts)
	}
	h := format(l.out)
	var copies fanout
	if l.file != nil {
		copies = append(copies, format(l.file))
	}
	if l.syslogW != nil {
		copies = append(copies, syslogHandler(l.syslogW))
	}
	if len(copies) > 0 {
		h = append(fanout{h}, copies...)
	}
	l.handler.Store(&h)
}

// SetLogFile writes the log to files as well, as cfg says, or stops that.
// An unchanged cfg keeps the current file; a file that cannot be opened
// leaves the log as it was and is returned.
func (l *Logging) SetLogFile(cfg config.LogFile) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg == l.fileCfg {
		return nil
	}
	var f *logFile
	if cfg.Path != "" {
		var err error
		if f, err = openLogFile(cfg, time.Now); err != nil {
			return err
		}
	}
	old := l.file
	l.file, l.fileCfg = f, cfg
	l.rebuild()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

// ParseLevel maps a configured level name to a slog level (info when unknown;
// the config has already rejected unknown names).
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug", "trace":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error", "err":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// switchHandler forwards to the Logging's current handler, replaying the
// attributes and groups it was derived with. The derived handler is kept
// until the format changes, so that a log line costs no re-derivation.
type switchHandler struct {
	l     *Logging
	steps []func(slog.Handler) slog.Handler
	cache *atomic.Pointer[derived]
}

// derived is base with the steps applied.
type derived struct {
	base *slog.Handler
	h    slog.Handler
}

func (h switchHandler) current() slog.Handler {
	base := h.l.handler.Load()
	if len(h.steps) == 0 {
		return *base
	}
	if d := h.cache.Load(); d != nil && d.base == base {
		return d.h
	}
	cur := *base
	for _, s := range h.steps {
		cur = s(cur)
	}
	h.cache.Store(&derived{base: base, h: cur})
	return cur
}

func (h switchHandler) Enabled(ctx context.Context, lv slog.Level) bool {
	return lv >= h.l.level.Level()
}

func (h switchHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.current().Handle(ctx, r)
}

func (h switchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })
}

func (h switchHandler) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}

func (h switchHandler) with(s func(slog.Handler) slog.Handler) slog.Handler {
	steps := append(append([]func(slog.Handler) slog.Handler{}, h.steps...), s)
	return switchHandler{l: h.l, steps: steps, cache: new(atomic.Pointer[derived])}
}

// LogWarnings logs the warnings of a configuration, at startup and at each
// reload alike: with where each points as file:line:col, as errors are
// printed, and no place at all for one that points nowhere (a flag's).
func LogWarnings(log *slog.Logger, warnings hcl.Diagnostics) {
	for _, w := range warnings {
		attrs := []any{"detail", w.Detail}
		if w.Subject != nil {
			if at := position(*w.Subject); at != "" {
				attrs = append(attrs, "at", at)
			}
		}
		log.Warn(w.Summary, attrs...)
	}
}
