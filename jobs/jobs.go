// Package jobs defines what the agent runs: a Job (a template job or a
// registrator block) with a name, a lifetime bound to a context, and a status
// it reports; and the metrics that jobs record.
package jobs

import (
	"context"
	"time"
)

// Kinds of job.
const (
	KindTemplate    = "template"
	KindRegistrator = "registrator"
)

// Job is one unit of work the agent starts, stops and reports on.
type Job interface {
	// Name is the job's identity: its block label.
	Name() string
	// Run works until ctx ends and returns nil then; it returns an error only
	// when the job cannot go on at all (a bad template, say). Errors that
	// heal (Consul or Docker away) are retried inside Run and reported in
	// Status.
	Run(ctx context.Context) error
	// Status is a snapshot of the job's state; safe to call at any time.
	Status() Status
}

// Status is what a job reports to /v1/status and `drcon status`.
type Status struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	// Ready is true once the job has rendered (template) or reconciled
	// (registrator) once; /healthz is 200 when every job is ready.
	Ready bool `json:"ready"`

	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`

	// Template jobs.
	Destination  string         `json:"destination,omitempty"`
	LastRender   time.Time      `json:"last_render,omitzero"`
	LastWrite    time.Time      `json:"last_write,omitzero"`
	Renders      uint64         `json:"renders,omitempty"`
	Writes       uint64         `json:"writes,omitempty"`
	Check        *CommandResult `json:"check,omitempty"`
	Command      *CommandResult `json:"command,omitempty"`
	Dependencies []string       `json:"dependencies,omitempty"`
	Missing      []string       `json:"missing,omitempty"`

	// Registrator jobs.
	DockerHost string    `json:"docker_host,omitempty"`
	Containers int       `json:"containers,omitempty"`
	Services   []string  `json:"services,omitempty"`
	LastSync   time.Time `json:"last_sync,omitzero"`
}

// CommandResult is the outcome of one run of a check or reload command.
type CommandResult struct {
	Command  string        `json:"command"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	ExitCode int           `json:"exit_code"`
	TimedOut bool          `json:"timed_out,omitempty"`
	Error    string        `json:"error,omitempty"`
}
