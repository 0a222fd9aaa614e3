// Package render is the template job: it keeps one destination file equal
// to a template rendered against the latest data of its dependencies.
//
// A job renders at once when it starts and whenever data it used changes,
// spaced by its own quiescence window; waits for missing data without
// touching other jobs; writes a candidate beside the destination, lets the
// check command refuse it, renames it into place, and asks the process's
// CommandRunner for the reload command, which identical requests of other
// jobs share; while that command runs, the destination is left as it is.
// A symlinked destination is followed, and a device, FIFO or /dev/stdout is
// written as a stream (dest.go). It also watches its template file and the
// files the template reads, and re-renders when they change.
//
// Checking an nginx configuration before it goes live (the recipe the
// integration test exercises): give drcon's destination its own include
// line in nginx.conf, then let the check build a variant of nginx.conf with
// that one path replaced by the candidate's, in nginx.conf's directory so
// that relative paths resolve the same, and test it:
//
//	check = <<-EOT
//	  main=/etc/nginx/.drcon-check-$$.conf
//	  trap 'rm -f "$main"' EXIT
//	  sed "s#include /etc/nginx/drcon/upstreams.conf;#include $DRCON_CANDIDATE;#" /etc/nginx/nginx.conf >"$main"
//	  nginx -t -q -c "$main"
//	EOT
//	command = "nginx -s reload"
//
// nginx -t then checks the whole configuration as it would be with the
// candidate live, so a duplicate upstream in another file is caught too.
package render

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/dep"
)

// Source is where a job gets the data of its dependencies. The watcher
// pool's subscription and the offline snapshot store implement it.
type Source interface {
	// Want sets the dependencies the job needs now (replacing the last set).
	// The job calls it after every execution, with the same set when it did
	// not change: the watcher pool learns from it that the job executed
	// with the data signalled before the execution's Hold.
	Want(ds []dep.Dependency)
	// Changed signals, coalesced, that data of a wanted dependency changed.
	Changed() <-chan struct{}
	// Recall returns the latest answer to d and whether there is one.
	Recall(d dep.Dependency) (any, bool)
	// Failure is why d has no data, once its queries have failed for good
	// (the retry attempts are spent) or, under err_on_failed_lookup, once
	// Consul said that its key does not exist (wrapping
	// dep.ErrFailedLookup); nil otherwise.
	Failure(d dep.Dependency) error
	// Hold keeps the answers, which the jobs of a source share, to one
	// execution at a time until the returned function is called. Template
	// functions write into answers (mergeMap into a dict holding
	// .ServiceMeta, sprig_sortAlpha on a []string), as they do in
	// consul-template, whose one goroutine executes every template. Every
	// execution takes it before it reads any data (see Want).
	Hold() (release func())
}

// Mode says how Run behaves. ModeOnce and ModeDry combine: -once -dry is
// ModeOnce|ModeDry.
type Mode uint8

const (
	// ModeRun is the daemon: render on every change until ctx ends.
	ModeRun Mode = 0
	// ModeOnce renders once the data is complete, writes, waits for the
	// command, and returns.
	ModeOnce Mode = 1
	// ModeDry prints each render to Options.DryOut instead of writing it,
	// and runs no check and no command: on every change that alters the
	// output, or once with ModeOnce.
	ModeDry Mode = 2
)

// Options are what a job gets from the agent besides its configuration.
type Options struct {
	Logger  *slog.Logger  // the job adds job=NAME; nil discards
	Metrics *jobs.Metrics // nil records nothing
	// Commands runs reload commands; one per process, shared by all jobs.
	// Required when the job has a command and is not Dry.
	Commands *CommandRunner
	// Env (NAME=value) is added to the environment of the template's env
	// functions and of the check and the command: CONSUL_HTTP_ADDR etc.
	Env  []string
	Mode Mode
	// DryOut receives the renders in ModeDry, each in one Write. Jobs that
	// share it need it safe for concurrent Writes.
	DryOut io.Writer
	// Rendered, if set, is called after each render that reached the
	// destination, with whether it changed the file's content: the agent
	// starts and reloads exec mode's child from it.
	Rendered func(job string, wrote bool)
}

// ErrExitRequested is wrapped by the error Run returns when the command
// failed and the job's on_command_failure is "exit": the agent treats it as
// fatal and exits non-zero.
var ErrExitRequested = errors.New("command failed and on_command_failure is exit")

// ErrTemplateFatal is wrapped by the error Run returns when the template
// failed to execute and the job's error_fatal is true, as consul-template
// stops then: the agent treats it as fatal and exits non-zero.
var ErrTemplateFatal = errors.New("template failed and error_fatal is true")

// States of a job, as Status reports them.
const (
	StateStarting = "starting"
	StateMissing  = "missing" // waiting for data of dependencies
	StateWaiting  = "waiting" // quiescence: a render is due when the window ends
	StateIdle     = "idle"    // the destination is up to date
	StateRefused  = "refused" // the check refused the latest render
	StateError    = "error"   // the latest render or write failed
	StateStopped  = "stopped"
)

// Job is one template job.
type Job struct {
	cfg    *config.Template
	src    Source
	o      Options
	log    *slog.Logger
	target target
	parse  func(text string) (*template.Template, error)
	tmpl   *template.Template // as parsed by New; Run owns later versions
	cmdEnv []string           // the command's whole environment

	mu     sync.Mutex
	status jobs.Status
}

var _ jobs.Job = (*Job)(nil)

// New parses cfg's template and returns its job. Errors name the file and
// line of a template that does not parse, and the user or group that does
// not exist.
func New(cfg *config.Template, src Source, o Options) (*Job, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if src == nil {
		return nil, fmt.Errorf("render job %q: no data source", cfg.Name)
	}
	if o.Mode&ModeDry != 0 && o.DryOut == nil {
		return nil, fmt.Errorf("render job %q: dry mode needs an output", cfg.Name)
	}
	if o.Mode&ModeDry == 0 && !cfg.Command.Empty() && o.Commands == nil {
		return nil, fmt.Errorf("render job %q: has a command but no command runner", cfg.Name)
	}
	uid, err := lookupUser(cfg.User)
	if err != nil {
		return nil, fmt.Errorf("render job %q: %w", cfg.Name, err)
	}
	gid, err := lookupGroup(cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("render job %q: %w", cfg.Name, err)
	}
	name := cfg.Source
	if name == "" {
		name = cfg.Name
	}
	topts := template.Options{Name: name, LeftDelim: cfg.LeftDelimiter, RightDelim: cfg.RightDelimiter,
		ErrOnMissingKey: cfg.ErrorOnMissingKey, FunctionDenylist: cfg.FunctionDenylist,
		SandboxPath: cfg.SandboxPath, Env: o.Env}
	j := &Job{
		cfg: cfg, src: src, o: o,
		log: o.Logger.With("job", cfg.Name),
		target: target{path: cfg.Destination, perms: cfg.Perms, uid: uid, gid: gid, backup: cfg.Backup,
			atomic: cfg.Atomic, createDirs: cfg.CreateDestDirs},
		parse:  func(text string) (*template.Template, error) { return template.Parse(text, topts) },
		cmdEnv: Environment(os.Environ(), cfg.CommandEnv, o.Env),
		status: jobs.Status{Name: cfg.Name, Kind: jobs.KindTemplate, State: StateStarting, Destination: cfg.Destination},
	}
	if j.tmpl, err = j.parse(cfg.Text); err != nil {
		return nil, fmt.Errorf("render job %q: %w", cfg.Name, err)
	}
	return j, nil
}

// Name is the job's block label.
func (j *Job) Name() string { return j.cfg.Name }

// Status is a snapshot of the job's state.
func (j *Job) Status() jobs.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.status
	s.Dependencies = append([]string(nil), s.Dependencies...)
	s.Missing = append([]string(nil), s.Missing...)
	if s.Check != nil {
		c := *s.Check
		s.Check = &c
	}
	if s.Command != nil {
		c := *s.Command
		s.Command = &c
	}
	return s
}

// update changes the status under its lock.
func (j *Job) update(f func(s *jobs.Status)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	f(&j.status)
}
