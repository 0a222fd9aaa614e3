package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"log/syslog"
	"net/url"
	"strings"

	"github.com/drcon/drcon/config"
)

// dialSyslog connects to the syslog that cfg names: the local one (/dev/log)
// unless it has an address.
func dialSyslog(cfg config.Syslog) (*syslog.Writer, error) {
	prio := syslogFacility(cfg.Facility) | syslog.LOG_INFO
	if cfg.Address == "" {
		return syslog.New(prio, cfg.Name)
	}
	u, err := url.Parse(cfg.Address)
	if err != nil {
		return nil, err
	}
	network, addr := u.Scheme, u.Host
	if network == "unix" {
		network, addr = "unixgram", u.Path
	}
	return syslog.Dial(network, addr, prio, cfg.Name)
}

// syslogFacility maps a facility name (config.SyslogFacilities) to its
// priority bits; the configuration has checked the name.
func syslogFacility(name string) syslog.Priority {
	for i, f := range config.SyslogFacilities {
		if f == name {
			// The list is in the order of the facility numbers, but for
			// LOCAL0, which is 16.
			if i >= 12 {
				return syslog.LOG_LOCAL0 + syslog.Priority(i-12)<<3
			}
			return syslog.Priority(i) << 3
		}
	}
	return syslog.LOG_LOCAL0
}

// syslogHandler formats records as text without their time (syslog stamps
// its own) and sends each with the severity of its level.
func syslogHandler(w *syslog.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	var h bySeverity
	for i, send := range []func(string) error{w.Debug, w.Info, w.Warning, w.Err} {
		h[i] = slog.NewTextHandler(lineWriter(send), opts)
	}
	return h
}

// lineWriter sends each formatted record, less its newline.
type lineWriter func(string) error

func (f lineWriter) Write(p []byte) (int, error) {
	return len(p), f(strings.TrimSuffix(string(p), "\n"))
}

// bySeverity holds one handler per syslog severity: debug, info, warning,
// error.
type bySeverity [4]slog.Handler

func (h bySeverity) pick(l slog.Level) slog.Handler {
	switch {
	case l < slog.LevelInfo:
		return h[0]
	case l < slog.LevelWarn:
		return h[1]
	case l < slog.LevelError:
		return h[2]
	}
	return h[3]
}

func (h bySeverity) Enabled(context.Context, slog.Level) bool { return true }
func (h bySeverity) Handle(ctx context.Context, r slog.Record) error {
	return h.pick(r.Level).Handle(ctx, r)
}

func (h bySeverity) WithAttrs(as []slog.Attr) slog.Handler {
	for i := range h {
		h[i] = h[i].WithAttrs(as)
	}
	return h
}

func (h bySeverity) WithGroup(name string) slog.Handler {
	for i := range h {
		h[i] = h[i].WithGroup(name)
	}
	return h
}

// fanout sends each record to every handler; the level was checked before.
type fanout []slog.Handler

func (f fanout) Enabled(context.Context, slog.Level) bool { return true }

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// SetSyslog sends the log to syslog as well, as cfg says, or stops that.
// An unchanged cfg keeps the connection; one that cannot be made leaves
// the log as it was and is returned.
func (l *Logging) SetSyslog(cfg config.Syslog) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cfg == l.syslogCfg {
		return nil
	}
	var w *syslog.Writer
	if cfg.Enabled {
		var err error
		if w, err = dialSyslog(cfg); err != nil {
			return fmt.Errorf("syslog %s: %w", syslogWhere(cfg), err)
		}
	}
	old := l.syslogW
	l.syslogW, l.syslogCfg = w, cfg
	l.rebuild()
	if old != nil {
		_ = old.Close()
	}
	return nil
}

func syslogWhere(cfg config.Syslog) string {
	if cfg.Address == "" {
		return "(local)"
	}
	return cfg.Address
}
