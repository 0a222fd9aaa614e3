package render

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
)

const (
	// candidateVar holds the candidate's path in the check's environment.
	candidateVar = "DRCON_CANDIDATE"
	// candidateMarker is replaced by the candidate's path in the check's
	// text, as is: for a directory with spaces or shell characters in its
	// name, use "$DRCON_CANDIDATE" in a shell check instead.
	candidateMarker = "{{candidate}}"
)

// checkError is a candidate the check refused.
type checkError struct {
	res    jobs.CommandResult
	output string
}

func (e *checkError) Error() string {
	msg := fmt.Sprintf("check %s refused the candidate: %s", e.res.Command, describe(e.res))
	if e.output != "" {
		msg += ": " + e.output
	}
	return msg
}

// withCandidate is c with the candidate's path in place of the marker.
func withCandidate(c config.Command, path string) config.Command {
	out := config.Command{Shell: strings.ReplaceAll(c.Shell, candidateMarker, path)}
	for _, a := range c.Argv {
		out.Argv = append(out.Argv, strings.ReplaceAll(a, candidateMarker, path))
	}
	return out
}

// check runs the job's check on a candidate file, with command_timeout,
// and records the result; a refusal is a *checkError.
func (r *run) check(ctx context.Context, candidate string) error {
	j := r.j
	out := &capped{max: maxCheckOutput}
	env := append(append(os.Environ(), j.o.Env...), candidateVar+"="+candidate)
	res := process{cmd: withCandidate(j.cfg.Check, candidate), env: env, timeout: j.cfg.CommandTimeout,
		stdout: out, stderr: out}.run(ctx)
	res.Command = j.cfg.Check.String() // as configured, not one candidate's
	if !failed(res) {
		j.update(func(s *jobs.Status) { s.Check = &res })
		j.log.Debug("check passed", "check", res.Command, "duration", res.Duration)
		return nil
	}
	cerr := &checkError{res: res, output: out.String()}
	res.Error = cerr.Error()
	j.update(func(s *jobs.Status) { s.Check = &res })
	if j.o.Metrics != nil {
		j.o.Metrics.CheckFailures.WithLabelValues(j.cfg.Name).Inc()
	}
	return cerr // logged with the output by the caller
}
