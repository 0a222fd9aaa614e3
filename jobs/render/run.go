package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/drcon/drcon/jobs"
	"github.com/drcon/drcon/template"
	"github.com/drcon/drcon/template/dep"
)

// run is the state of one Run, owned by its goroutine.
type run struct {
	j       *Job
	tmpl    *template.Template
	text    string // of tmpl, to skip re-parsing an unchanged file
	tmplErr error  // a template edit that does not parse; reported until fixed
	wanted  []dep.Dependency
	files   fileWatch

	ready bool // rendered completely once: later changes are spaced by quiescence
	owed  bool // a render is due but waits for missing data: the next change renders at once
	win   window
	edits window

	missing []dep.Dependency // of the latest execution, in order of first use
	refused *[sha256.Size]byte
	printed []byte   // the last output printed (Dry) or sent to a stream destination
	read    []string // the files the last execution that did not fail read

	// fatal ends the daemon: the template failed and error_fatal is true.
	fatal error

	pending     *CommandRun
	heldBy      <-chan struct{} // a run of the job's command that a write waits for
	requested   bool            // a command was requested since the job started
	commandOwed bool            // the last command failed: the next render runs it even if the file is unchanged
}

// Run renders until ctx ends (or once, per Options.Mode). It returns an
// error only in Once mode, or wrapping ErrExitRequested or ErrTemplateFatal.
func (j *Job) Run(ctx context.Context) error {
	r := &run{j: j, tmpl: j.tmpl, text: j.cfg.Text, files: fileWatch{log: j.log},
		win: newWindow(j.cfg.Wait.Min, j.cfg.Wait.Max), edits: newWindow(editQuiet, editMax)}
	defer r.files.close()
	defer j.update(func(s *jobs.Status) { s.State = StateStopped })
	j.o.Metrics.DeclareTemplate(j.cfg.Name, !j.cfg.Command.Empty())
	if j.o.Mode&ModeDry == 0 {
		if err := j.target.removeStale(); err != nil {
			j.log.Warn("could not remove stale temp files", "error", err)
		}
	}
	if !j.cfg.Command.Empty() && j.o.Mode&ModeDry == 0 {
		defer j.o.Commands.own(j.cfg.Command, j.cmdEnv)()
	}
	if j.o.Mode&ModeOnce != 0 {
		return r.once(ctx)
	}
	return r.daemon(ctx)
}

func (r *run) daemon(ctx context.Context) error {
	j := r.j
	renderAt := time.NewTimer(time.Hour)
	renderAt.Stop()
	defer renderAt.Stop()
	editsSettled := time.NewTimer(time.Hour)
	editsSettled.Stop()
	defer editsSettled.Stop()
	renderNow := func() {
		r.win.close()
		renderAt.Stop()
		if r.heldByCommand() {
			return
		}
		complete, err := r.render(ctx) // errors are in the status and the log
		r.owed = !complete && err == nil
	}

	r.files.watch(r.watchList(nil))
	renderNow()
	for {
		if r.fatal != nil {
			return r.fatal
		}
		select {
		case <-ctx.Done():
			return nil

		case <-j.src.Changed():
			now := time.Now()
			if r.owed || !r.ready || !j.cfg.Wait.Enabled() {
				renderNow()
				continue
			}
			if r.win.expired(now) {
				// The window ends at this very instant: render it, and let
				// this change open the next one.
				renderNow()
			} else {
				r.follow()
			}
			renderAt.Reset(r.win.change(now).Sub(now))
			j.update(func(s *jobs.Status) { s.State = StateWaiting })

		case <-renderAt.C:
			if r.win.expired(time.Now()) {
				renderNow()
			}

		case <-r.commandDone():
			if err := r.commandFinished(ctx); err != nil {
				return err
			}

		case <-r.heldBy:
			r.heldBy = nil
			if r.pending != nil && isClosed(r.pending.Done()) {
				// The run that held the write was this job's: its result
				// first, before a new request replaces it.
				if err := r.commandFinished(ctx); err != nil {
					return err
				}
			}
			renderNow()

		case ev := <-r.files.events():
			if r.files.relevant(ev) {
				now := time.Now()
				editsSettled.Reset(r.edits.change(now).Sub(now))
			}

		case err := <-r.files.errors():
			j.log.Warn("watching template files", "error", err)

		case <-editsSettled.C:
			if r.edits.expired(time.Now()) {
				r.edits.close()
				// Both run: a new template starts with no file read.
				edited := r.reloadTemplate()
				if reread := r.tmpl.RereadFiles(); edited || reread {
					renderNow()
				}
			}
		}
	}
}

// render executes the template, as many passes as it takes to discover its
// dependencies, and activates a complete output. complete is false when
// data is missing; err is what failed, already logged and in the status.
func (r *run) render(ctx context.Context) (complete bool, err error) {
	j := r.j
	if !j.cfg.Command.Empty() && j.o.Mode&ModeDry == 0 {
		// Jobs woken by the same change then share one run of the command.
		defer j.o.Commands.hold(j.cfg.Command, j.cmdEnv)()
	}
	out, err := r.discover()
	if out == nil {
		return false, err
	}
	return true, r.activate(ctx, out.Output)
}

// follow executes the template at a change whose render quiescence holds
// back, without writing, as consul-template executes every template at
// every change: the dependencies the change leaves unused are let go at
// once, and new ones watched. A dependency let go and used again before
// the window ends then starts afresh, as in consul-template: a deleted key
// no longer has its last value (key waits for it again), and one found and
// deleted within the window keeps it. Errors are in the status and the log.
func (r *run) follow() {
	r.discover()
}

// discover executes the template, as many passes as it takes to discover
// its dependencies, and returns the complete result; nil when data is
// missing or the execution failed (err, already logged and in the status).
func (r *run) discover() (*template.Result, error) {
	j := r.j
	if r.files.blind() {
		// No event will say that a file changed: read them all again.
		r.tmpl.RereadFiles()
	}
	// The executions consul-template makes after the first of several
	// answers, before the one with them all and in that order, so that a
	// template's side effects (writeToFile, plugin, a write into an answer)
	// happen in the same order in both.
	err := r.partialFailure()
	var out *template.Result
	for err == nil {
		if out, err = r.execute(j.src); err != nil {
			break
		}
		r.missing = out.MissingByFirstUse
		r.read = out.Files
		r.files.watch(r.watchList(out.Files))
		grew := r.want(out.Used)
		j.update(func(s *jobs.Status) {
			s.Dependencies, s.Missing = depStrings(out.Used), depStrings(out.Missing)
		})
		if out.Complete() {
			return out, nil
		}
		// A key that Consul says does not exist fails the execution under
		// err_on_failed_lookup; the rest of what is missing is waited for.
		if err = r.failures(out.MissingByFirstUse, true); err != nil {
			break
		}
		// Newly wanted dependencies that already have data (another job
		// shares them) are worth another pass at once: consul-template's one
		// pass would have read them. The others wait for their first
		// answers, which the source signals; a pass before them would only
		// repeat the template's side effects, which consul-template does not.
		if !grew || !r.recalled(out.Missing) {
			j.update(func(s *jobs.Status) { s.State = StateMissing })
			return nil, nil
		}
		// The pass reads every answer there is: a signal sent meanwhile
		// (the source's for the answers just recalled) would only repeat it.
		select {
		case <-j.src.Changed():
		default:
		}
	}
	r.missing = nil
	switch {
	case r.wanted != nil:
		// The dependencies of the last execution that did not fail stay
		// wanted, as in consul-template.
		r.want(r.wanted)
	case out != nil:
		r.want(out.Used)
	}
	if out != nil {
		// The files it read as well: one it could not read (missing, a
		// link re-pointed ahead of its target, a loop) ends the failure
		// when it is mended, and no other change may come.
		r.files.watch(r.watchList(slices.Concat(r.read, out.Files)))
	}
	if j.o.Metrics != nil {
		j.o.Metrics.RenderErrors.WithLabelValues(j.cfg.Name).Inc()
	}
	if j.cfg.ErrorFatal {
		r.fatal = fmt.Errorf("render job %q: %w: %w", j.cfg.Name, ErrTemplateFatal, err)
	}
	return nil, r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
}

// execute executes the template on src, holding the source's answers:
// template functions may write into them. The hold also tells the source
// which signals the execution reads the data of (Source.Want).
func (r *run) execute(src template.Store) (*template.Result, error) {
	defer r.j.src.Hold()()
	return r.tmpl.Execute(src)
}

// recalled reports whether the source has data for one of ds.
func (r *run) recalled(ds []dep.Dependency) bool {
	for _, d := range ds {
		if _, ok := r.j.src.Recall(d); ok {
			return true
		}
	}
	return false
}

// want tells the source the dependencies of the latest execution and
// reports whether they changed. The source hears of every execution, even
// with the same set: the watcher pool keeps a deleted key's last value for
// a job yet to execute (watch.Subscription.Want).
func (r *run) want(used []dep.Dependency) bool {
	changed := !slices.Equal(used, r.wanted)
	if changed {
		r.wanted = slices.Clone(used)
	}
	r.j.src.Want(slices.Clone(r.wanted))
	return changed
}

// watchList is the template file and the files the template read.
func (r *run) watchList(read []string) []string {
	if r.j.o.Mode&ModeOnce != 0 {
		return nil
	}
	if r.j.cfg.Source != "" {
		return append([]string{r.j.cfg.Source}, read...)
	}
	return read
}

// activate puts a complete output in place: printed in Dry mode, else
// checked, written and followed by the command, unless the destination
// already holds it.
func (r *run) activate(ctx context.Context, out []byte) error {
	j := r.j
	at := time.Now()
	if j.o.Metrics != nil {
		j.o.Metrics.Renders.WithLabelValues(j.cfg.Name).Inc()
	}
	j.update(func(s *jobs.Status) { s.Renders++; s.LastRender = at })

	if j.o.Mode&ModeDry != 0 {
		if r.ready && bytes.Equal(out, r.printed) {
			r.ok()
			return nil
		}
		msg := make([]byte, 0, len(j.cfg.Destination)+3+len(out))
		msg = append(append(append(msg, "> "...), j.cfg.Destination...), '\n')
		if _, err := j.o.DryOut.Write(append(msg, out...)); err != nil {
			return r.fail(StateError, fmt.Errorf("render job %q: print dry render: %w", j.cfg.Name, err))
		}
		r.printed = out
		r.ok()
		return nil
	}

	sum := sha256.Sum256(out)
	if r.refused != nil && *r.refused == sum {
		// The check refused this very content already; checking it again
		// would refuse it again, on every signal, for nothing. The status
		// keeps the refusal.
		j.update(func(s *jobs.Status) { s.State = StateRefused })
		return nil
	}
	tg, err := j.target.resolve()
	if err != nil {
		return r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
	}
	var cur onDisk
	current := tg.stream && r.ready && bytes.Equal(out, r.printed)
	if !tg.stream {
		if cur, err = tg.read(out); err != nil {
			return r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
		}
		current = tg.upToDate(cur)
	}
	if current {
		if fixed, err := tg.fixMode(cur); err != nil {
			return r.fail(StateError, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
		} else if fixed {
			j.log.Info("set the destination's mode", "destination", j.cfg.Destination, "mode", j.cfg.Perms.String())
		}
		r.refused = nil
		r.ok()
		j.rendered(false)
		if r.commandOwed {
			r.requestCommand()
		}
		return nil
	}
	var check func(string) error
	if !j.cfg.Check.Empty() {
		check = func(candidate string) error { return r.check(ctx, candidate) }
	}
	if err := tg.write(cur, out, check); err != nil {
		if ctx.Err() != nil {
			// Stopped during the check: no verdict on this content.
			return fmt.Errorf("render job %q: stopped before the write: %w", j.cfg.Name, context.Cause(ctx))
		}
		state := StateError
		if errors.As(err, new(*checkError)) {
			r.refused, state = &sum, StateRefused
		}
		return r.fail(state, fmt.Errorf("render job %q: %w", j.cfg.Name, err))
	}
	r.refused = nil
	if tg.stream {
		r.printed = out
	}
	if j.o.Metrics != nil {
		j.o.Metrics.Writes.WithLabelValues(j.cfg.Name).Inc()
	}
	written := time.Now()
	j.update(func(s *jobs.Status) { s.Writes++; s.LastWrite = written })
	j.log.Info("wrote destination", "destination", j.cfg.Destination, "bytes", len(out))
	r.ok()
	j.rendered(true)
	if !j.cfg.Command.Empty() {
		r.requestCommand()
	}
	return nil
}

func (j *Job) rendered(wrote bool) {
	if j.o.Rendered != nil {
		j.o.Rendered(j.cfg.Name, wrote)
	}
}

// reloadTemplate re-reads and re-parses the template file after an edit.
// A file that cannot be read or parsed leaves the last good template in
// use and is reported until fixed. It reports whether the job's template
// or its error changed, so that a render is due.
func (r *run) reloadTemplate() bool {
	j := r.j
	if j.cfg.Source == "" {
		return false
	}
	b, err := os.ReadFile(j.cfg.Source)
	if err != nil {
		r.tmplErr = r.fail(StateError, fmt.Errorf("render job %q: keeping the last good template: %w", j.cfg.Name, err))
		return true
	}
	if string(b) == r.text {
		fixed := r.tmplErr != nil
		r.tmplErr = nil
		return fixed
	}
	t, err := j.parse(string(b))
	if err != nil {
		r.tmplErr = r.fail(StateError, fmt.Errorf("render job %q: keeping the last good template: %w", j.cfg.Name, err))
		return true
	}
	r.tmpl, r.text, r.tmplErr = t, string(b), nil
	j.log.Info("template reloaded", "source", j.cfg.Source)
	return true
}

// ok records a render that reached the destination (or DryOut). The
// error of a broken template edit stays until the edit is fixed.
func (r *run) ok() {
	r.ready = true
	r.j.update(func(s *jobs.Status) {
		s.Ready, s.State = true, StateIdle
		if r.tmplErr != nil {
			s.LastError = r.tmplErr.Error() // at the time of the edit
		} else {
			s.LastError = ""
		}
	})
}

// fail records and logs err and returns it.
func (r *run) fail(state string, err error) error {
	// Logged first: whoever sees the failed status finds the line logged.
	r.j.log.Error("render failed", "error", err)
	r.report(state, err)
	return err
}

// report records err in the status.
func (r *run) report(state string, err error) {
	at := time.Now()
	r.j.update(func(s *jobs.Status) { s.State, s.LastError, s.LastErrorAt = state, err.Error(), at })
}

func depStrings(ds []dep.Dependency) []string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.String()
	}
	return s
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
