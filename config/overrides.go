package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Overrides are consul-template's common command-line flags. A non-empty
// field wins over the configuration files, which win over the environment.
type Overrides struct {
	// Templates are -template "src:dest[:command]" flags; a ':' after the
	// destination belongs to the command. Each adds a template job named
	// by its destination; src is relative to the working directory.
	Templates    []string
	ConsulAddr   string // -consul-addr
	ConsulToken  string // -consul-token
	Wait         string // -wait "min[:max]"
	LogLevel     string // -log-level
	KillSignal   string // -kill-signal
	ReloadSignal string // -reload-signal
	MaxStale     string // -max-stale
	PidFile      string // -pid-file
	// -consul-retry-attempts, -consul-retry-backoff, -consul-retry-max-backoff
	RetryAttempts, RetryBackoff, RetryMaxBackoff string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// applyGlobalOverrides applies the flags that are not templates.
func (l *loader) applyGlobalOverrides(c *Config) {
	o := l.o
	if o.LogLevel != "" {
		if v, err := parseLogLevel(o.LogLevel); err != nil {
			l.flagError("-log-level", err)
		} else {
			c.LogLevel = v
		}
	}
	for _, s := range []struct {
		flag, value string
		dst         *Signal
	}{{"-kill-signal", o.KillSignal, &c.KillSignal}, {"-reload-signal", o.ReloadSignal, &c.ReloadSignal}} {
		if s.value == "" {
			continue
		}
		if v, err := parseSignal(s.value, false); err != nil {
			l.flagError(s.flag, err)
		} else {
			*s.dst = v
		}
	}
	if o.MaxStale != "" {
		if v, err := parseDuration(o.MaxStale); err != nil {
			l.flagError("-max-stale", err)
		} else {
			c.MaxStale = v
		}
	}
	if o.Wait != "" {
		if v, err := parseWaitString(o.Wait); err != nil {
			l.flagError("-wait", err)
		} else {
			c.Wait = v
		}
	}
	if o.PidFile != "" {
		c.PidFile = o.PidFile
	}
	if o.ConsulAddr != "" {
		c.Consul.Address = o.ConsulAddr
	}
	if o.ConsulToken != "" {
		c.Consul.Token, c.Consul.TokenFile = o.ConsulToken, ""
	}
	l.retryOverrides(&c.Consul.Retry)
	// consul/api speaks HTTPS to an https:// address whatever else says.
	if strings.HasPrefix(c.Consul.Address, "https://") {
		c.Consul.TLS.Enabled = true
	}
}

// retryOverrides applies consul-template's -consul-retry-* flags.
func (l *loader) retryOverrides(r *Retry) {
	o := l.o
	if o.RetryAttempts != "" {
		if n, err := strconv.Atoi(o.RetryAttempts); err != nil || n < 0 {
			l.flagError("-consul-retry-attempts", fmt.Errorf("%q is not a number of attempts (0: never give up)", o.RetryAttempts))
		} else {
			r.Attempts = n
		}
	}
	for _, f := range []struct {
		flag, value string
		dst         *time.Duration
	}{{"-consul-retry-backoff", o.RetryBackoff, &r.Backoff}, {"-consul-retry-max-backoff", o.RetryMaxBackoff, &r.MaxBackoff}} {
		if f.value == "" {
			continue
		}
		if v, err := parseDuration(f.value); err != nil || v <= 0 {
			l.flagError(f.flag, fmt.Errorf("%q is not a positive duration", f.value))
		} else {
			*f.dst = v
		}
	}
	if r.MaxBackoff < r.Backoff {
		r.MaxBackoff = r.Backoff
	}
}

func (l *loader) flagError(flag string, err error) {
	l.errorNoPos("Invalid "+flag+" flag", "%s.", err)
}

// flagTemplates turns the -template flags into template jobs.
func (l *loader) flagTemplates(wait Wait, delims [2]string) []*Template {
	var ts []*Template
	for _, spec := range l.o.Templates {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			l.flagError("-template", fmt.Errorf("%q is not \"src:dest[:command]\"", spec))
			continue
		}
		t := newTemplate(wait, delims)
		t.Name, t.Source, t.Destination = parts[1], parts[0], parts[1]
		if len(parts) == 3 {
			t.Command.Shell = parts[2]
		}
		b, err := readFile(t.Source)
		if err != nil {
			l.flagError("-template", fmt.Errorf("read template source: %s", err))
			continue
		}
		t.Text = string(b)
		ts = append(ts, t)
	}
	return ts
}
