package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/jobs/child"
	"github.com/drcon/drcon/template/dedup"
)

// cmdStatus prints the status table of a running agent.
func cmdStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("drcon status", stderr)
	var c common
	c.register(fs)
	addr := fs.String("addr", "", "the agent's status address (default: status { address } of -config)")
	asJSON := fs.Bool("json", false, "print the raw JSON document")
	if code, ok := c.parse(fs, args, stderr); !ok {
		return code
	}
	if *addr == "" {
		if len(c.configs) == 0 {
			fmt.Fprintln(stderr, "drcon status: give -addr or -config")
			return exitUsage
		}
		cfg, err := c.load()
		if err != nil {
			return loadExit(stderr, err)
		}
		if cfg.Status.Address == "" {
			fmt.Fprintln(stderr, "drcon status: the configuration has no status { address }")
			return exitConfig
		}
		*addr = cfg.Status.Address
	}
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + *addr + "/v1/status")
	if err != nil {
		fmt.Fprintln(stderr, "drcon status:", err)
		return exitError
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "drcon status: %s: %v %s\n", resp.Status, err, body)
		return exitError
	}
	if *asJSON {
		_, _ = stdout.Write(body)
		return exitOK
	}
	var st agent.Status
	if err := json.Unmarshal(body, &st); err != nil {
		fmt.Fprintln(stderr, "drcon status: decode:", err)
		return exitError
	}
	printStatus(stdout, st, time.Now())
	return exitOK
}

// printStatus renders the status document as a table.
func printStatus(w io.Writer, st agent.Status, now time.Time) {
	health := "healthy"
	if !st.Healthy {
		health = "not ready"
	}
	fmt.Fprintf(w, "drcon %s, up %s, %s\n", st.Version, roundAge(now.Sub(st.Started)), health)
	if r := st.LastReload; r != nil {
		fmt.Fprintf(w, "last reload %s ago: %s", roundAge(now.Sub(r.At)), r.Outcome)
		if r.Error != "" {
			fmt.Fprintf(w, ": %s", firstLine(r.Error))
			if more := strings.Count(strings.TrimSpace(r.Error), "\n"); more > 0 {
				fmt.Fprintf(w, " (and %d more)", more)
			}
		}
		fmt.Fprintln(w)
	}
	if d := st.Dedup; d != nil {
		fmt.Fprintln(w, dedupLine(d, now))
	}
	if e := st.Exec; e != nil {
		fmt.Fprintln(w, execLine(e, now))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "JOB\tKIND\tSTATE\tREADY\tLAST RENDER/SYNC\tLAST WRITE\tDEPS\tDATA AGE\tDETAIL")
	for _, j := range st.Jobs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%d\t%s\t%s\n", j.Name, j.Kind, j.State, j.Ready,
			ago(now, lastActivity(j)), ago(now, j.LastWrite), len(j.Dependencies), dataAge(j), detail(j))
	}
	tw.Flush()
}

// execLine says how exec mode's child is doing.
func execLine(e *child.Status, now time.Time) string {
	if e.Waiting {
		return fmt.Sprintf("exec: %s, waiting for every template to render", e.Command)
	}
	if e.PID == 0 {
		return fmt.Sprintf("exec: %s, not running", e.Command)
	}
	return fmt.Sprintf("exec: %s, pid %d, up %s, %d reloads, %d restarts", e.Command, e.PID,
		roundAge(now.Sub(e.Started)), e.Reloads, e.Restarts)
}

// dedupLine says what the agent's part in its dedup group is.
func dedupLine(d *dedup.Status, now time.Time) string {
	var s string
	switch d.Role {
	case dedup.RoleLeader:
		s = fmt.Sprintf("dedup: leader of %s, %d dependencies, %d publications", d.Group, d.Dependencies, d.Published)
		if !d.LastPublish.IsZero() {
			s += fmt.Sprintf(", last %s ago (%d bytes)", roundAge(now.Sub(d.LastPublish)), d.PublishedBytes)
		}
	case dedup.RoleFollower:
		s = fmt.Sprintf("dedup: follower of %s in %s, %d of %d dependencies shared", d.Leader, d.Group, d.Shared, d.Dependencies)
	default:
		s = "dedup: " + d.Role
	}
	if d.Fallback != "" {
		s += "; querying Consul itself: " + d.Fallback
	}
	return s
}

func lastActivity(j agent.JobStatus) time.Time {
	if j.Kind == "registrator" {
		return j.LastSync
	}
	return j.LastRender
}

// dataAge is the age of the oldest data among the job's dependencies; "-"
// when none has data yet (DETAIL says what the job waits for).
func dataAge(j agent.JobStatus) string {
	var oldest *time.Duration
	for _, d := range j.Dependencies {
		if d.Age != nil && (oldest == nil || *d.Age > *oldest) {
			oldest = d.Age
		}
	}
	if oldest == nil {
		return "-"
	}
	return roundAge(*oldest)
}

// detail is what matters most about a job now: its error, what it waits
// for, or what it keeps up to date; then the dependencies whose queries
// fail, so that a job waiting for Consul does not read as one waiting for
// a key to be written.
func detail(j agent.JobStatus) string {
	return jobDetail(j) + failingDependencies(j)
}

func jobDetail(j agent.JobStatus) string {
	switch {
	case j.LastError != "":
		return "error: " + firstLine(j.LastError)
	case len(j.Missing) > 0:
		return "waiting for " + strings.Join(j.Missing, ", ")
	case j.Kind == "registrator":
		return fmt.Sprintf("%d containers, %d services", j.Containers, len(j.Services))
	}
	d := j.Destination
	if c := j.Check; c != nil {
		d += fmt.Sprintf(", check exit %d", c.ExitCode)
	}
	if c := j.Command; c != nil {
		d += fmt.Sprintf(", command exit %d", c.ExitCode)
	}
	return d
}

// failingDependencies names each dependency of j whose latest queries
// failed, with the last error; "" when Consul answers them all.
func failingDependencies(j agent.JobStatus) string {
	var s string
	for _, d := range j.Dependencies {
		if d.Failures == 0 {
			continue
		}
		// The fetcher's errors name the dependency; the table names it once.
		last := strings.TrimPrefix(firstLine(d.LastError), "fetch "+d.Name+": ")
		s += fmt.Sprintf("; %s: %d queries failed in a row, the last: %s", d.Name, d.Failures, last)
	}
	return s
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return roundAge(now.Sub(t)) + " ago"
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
