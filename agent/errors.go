package agent

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drcon/drcon/config"
)

var (
	// ErrInvalid is matched by the errors of a configuration that loaded but
	// cannot be put to work: a template that does not parse, a registrator
	// whose settings are wrong, a Consul client that cannot be built.
	ErrInvalid = errors.New("invalid configuration")
	// ErrForced is returned by Run when a second stop signal ended a
	// graceful stop early.
	ErrForced = errors.New("stopped at once by a second signal")
	// ErrOnceTimeout is the cause of the errors of a -once run whose
	// templates were still waiting when Options.Timeout passed.
	ErrOnceTimeout = errors.New("timed out")
)

// JobError is a job that could not be built, or that failed in a -once run.
// Several are joined with errors.Join; each names its job and where the
// job's block starts.
type JobError struct {
	Job  string
	Kind string
	At   hcl.Range // the block's declaration; empty for a -template flag
	Err  error
	// invalid marks a job that could not be built (ErrInvalid).
	invalid bool
}

func (e *JobError) Error() string {
	if p := position(e.At); p != "" {
		return fmt.Sprintf("%s: %s %q: %v", p, e.Kind, e.Job, e.Err)
	}
	return fmt.Sprintf("%s %q: %v", e.Kind, e.Job, e.Err)
}

func (e *JobError) Unwrap() error { return e.Err }

// Is lets errors.Is(err, ErrInvalid) find jobs that could not be built.
func (e *JobError) Is(target error) bool { return e.invalid && target == ErrInvalid }

// diagnostic is one problem of a failed reload, as it is logged (one line
// each) and shown in status.
type diagnostic struct {
	at  string // file:line:col, or "" when the problem has no place
	job string
	msg string
}

func (d diagnostic) String() string {
	if d.at != "" {
		return d.at + ": " + d.msg
	}
	return d.msg
}

// diagnostics splits err into its problems: every error diagnostic of a
// configuration, every job that could not be built.
func diagnostics(err error) []diagnostic {
	var ce *config.Error
	if errors.As(err, &ce) {
		var out []diagnostic
		for _, d := range ce.Diagnostics {
			if d.Severity != hcl.DiagError {
				continue
			}
			msg := d.Summary
			if detail := strings.Join(strings.Fields(d.Detail), " "); detail != "" {
				msg += ": " + detail
			}
			var at string
			if d.Subject != nil {
				at = position(*d.Subject)
			}
			out = append(out, diagnostic{at: at, msg: msg})
		}
		if len(out) > 0 {
			return out
		}
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []diagnostic
		for _, e := range joined.Unwrap() {
			out = append(out, diagnostics(e)...)
		}
		return out
	}
	var je *JobError
	if errors.As(err, &je) {
		return []diagnostic{{at: position(je.At), job: je.Job,
			msg: fmt.Sprintf("%s %q: %v", je.Kind, je.Job, oneLine(je.Err.Error()))}}
	}
	return []diagnostic{{msg: oneLine(err.Error())}}
}

// position is where r starts as file:line:col; "" for an empty range.
func position(r hcl.Range) string {
	if r.Filename == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// oneLine folds a multi-line message so that it fits one log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
