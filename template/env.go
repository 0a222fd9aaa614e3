package template

import (
	"fmt"
	"os"
	"strconv"
	"text/template"
	"time"
)

// templateFuncs are the functions bound once per Template: to Options.Env,
// which comes before the process environment (consul-template's runner puts
// CONSUL_HTTP_ADDR and friends there), and to the clock.
func (t *Template) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"env":          t.getenv,
		"envOrDefault": t.envOrDefault,
		"mustEnv":      t.mustEnv,
		"timestamp":    t.timestamp,
	}
}

// lookupOpts finds name in Options.Env.
func (t *Template) lookupOpts(name string) (string, bool) {
	for _, e := range t.env {
		if e.name == name {
			return e.value, true
		}
	}
	return "", false
}

func (t *Template) getenv(name string) (string, error) {
	if v, ok := t.lookupOpts(name); ok {
		return v, nil
	}
	return os.Getenv(name), nil
}

// mustEnv fails on an empty value; an empty Options.Env entry falls through
// to the process environment, as in consul-template.
func (t *Template) mustEnv(name string) (string, error) {
	v, _ := t.lookupOpts(name)
	if v == "" {
		v = os.Getenv(name)
	}
	if v == "" {
		return "", fmt.Errorf("required environment variable %s is empty", name)
	}
	return v, nil
}

// envOrDefault returns def only for a variable that is not set at all: a
// set but empty one gives "".
func (t *Template) envOrDefault(name, def string) (string, error) {
	if v, ok := t.lookupOpts(name); ok {
		return v, nil
	}
	if v, ok := os.LookupEnv(name); ok {
		return v, nil
	}
	return def, nil
}

// timestamp is the current time in UTC: RFC 3339 by default, Unix seconds
// for "unix", or formatted with a Go layout.
func (t *Template) timestamp(layout ...string) (string, error) {
	now := t.opts.now().UTC()
	switch len(layout) {
	case 0:
		return now.Format(time.RFC3339), nil
	case 1:
		if layout[0] == "unix" {
			return strconv.FormatInt(now.Unix(), 10), nil
		}
		return now.Format(layout[0]), nil
	}
	return "", fmt.Errorf("timestamp: wrong number of arguments, expected 0 or 1, but got %d", len(layout))
}
