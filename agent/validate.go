package agent

import (
	"errors"
	"log/slog"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/jobs/register"
	"github.com/drcon/drcon/template"
)

// Validate checks offline what config.Load leaves to the jobs: that every
// template parses as its job parses it, that every registrator block can
// be built, and that the Consul client can be. It contacts nothing and
// depends on nothing of the machine it runs on (users and groups are
// looked up when the job starts), so that a configuration can be checked
// in CI. Its error joins a *JobError (matching ErrInvalid) per problem.
func Validate(cfg *config.Config) error {
	var errs []error
	client, err := newConsulClient(cfg.Consul)
	if err != nil {
		errs = append(errs, &JobError{Job: "consul", Kind: "block", Err: err, invalid: true})
	}
	for _, s := range sortedSpecs(specs(cfg)) {
		if err := validateJob(cfg, s, client); err != nil {
			errs = append(errs, &JobError{Job: s.name, Kind: s.kind, At: s.declRange(), Err: err, invalid: true})
		}
	}
	return errors.Join(errs...)
}

func validateJob(cfg *config.Config, s spec, client *api.Client) error {
	switch s.kind {
	case jobs.KindTemplate:
		t := s.template
		name := t.Source
		if name == "" {
			name = t.Name
		}
		_, err := template.Parse(t.Text, template.Options{Name: name, LeftDelim: t.LeftDelimiter,
			RightDelim: t.RightDelimiter, ErrOnMissingKey: t.ErrorOnMissingKey,
			FunctionDenylist: t.FunctionDenylist, SandboxPath: t.SandboxPath, Env: consulEnv(cfg.Consul)})
		return err
	case jobs.KindRegistrator:
		if client == nil {
			return nil // the consul block's own error says why
		}
		_, err := register.New(s.registrator, client, register.Options{Logger: slog.New(slog.DiscardHandler)})
		return err
	}
	return errors.New("unknown kind of job")
}
