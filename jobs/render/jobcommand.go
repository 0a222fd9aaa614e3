package render

import (
	"context"
	"fmt"

	"github.com/drcon/drcon/jobs"
)

// The job's side of its reload command: asking the CommandRunner for a run,
// waiting for it, and recording how it went.

// heldByCommand reports whether a run of the job's command is executing,
// and then makes the render wait for its end (heldBy). The command reads
// the destination, perhaps twice (nginx -t, then a reload): the file stays
// as it is until the command has run; then the latest data is rendered
// and written, and the command runs again. consul-template renders nothing
// while a command runs.
func (r *run) heldByCommand() bool {
	j := r.j
	if j.cfg.Command.Empty() || j.o.Mode&ModeDry != 0 {
		return false
	}
	running := j.o.Commands.running(j.cfg.Command, j.cmdEnv)
	if running == nil {
		return false
	}
	r.heldBy = running.Done()
	j.update(func(s *jobs.Status) { s.State = StateWaiting })
	return true
}

// requestCommand asks the runner to run the job's command after a write;
// the job's first request says so, as jobs started together gather theirs.
func (r *run) requestCommand() {
	j := r.j
	r.commandOwed = false
	r.pending = j.o.Commands.Request(CommandRequest{Job: j.cfg.Name, Command: j.cfg.Command, Env: j.cmdEnv,
		Timeout: j.cfg.CommandTimeout, First: !r.requested})
	r.requested = true
}

// commandDone is ready when the pending command has run; nil (never ready)
// when none is pending.
func (r *run) commandDone() <-chan struct{} {
	if r.pending == nil {
		return nil
	}
	return r.pending.Done()
}

// commandFinished records the pending command's result. A failure is
// retried by the next render, and ends the job if so configured.
func (r *run) commandFinished(ctx context.Context) error {
	res := r.pending.Result()
	r.pending = nil
	if ctx.Err() != nil {
		return nil // stopping: the run may have been dropped, which is no failure
	}
	if !failed(res) {
		r.recordCommand(res)
		return nil
	}
	r.commandOwed = true
	// The runner logged the failure, with the command's output.
	r.report(StateError, fmt.Errorf("render job %q: command %s: %s", r.j.cfg.Name, res.Command, describe(res)))
	r.recordCommand(res)
	if r.j.cfg.OnCommandFailure == "exit" {
		return fmt.Errorf("render job %q: %w: command %s: %s", r.j.cfg.Name, ErrExitRequested, res.Command, describe(res))
	}
	return nil
}

func (r *run) recordCommand(res jobs.CommandResult) {
	r.j.update(func(s *jobs.Status) { s.Command = &res })
}

// describe is a failed run in words.
func describe(res jobs.CommandResult) string {
	if res.Error != "" {
		return res.Error
	}
	return fmt.Sprintf("exit code %d", res.ExitCode)
}
