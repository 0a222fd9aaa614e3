package demo

import (
	"bufio"
	"fmt"
	"io"
)

// Print writes the report as the demo's summary table.
func (r *Report) Print(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%-20s %9s %7s\n", "phase", "requests", "failed")
	for _, p := range r.Phases {
		fmt.Fprintf(b, "%-20s %9d %7d\n", p.Name, p.Requests, p.Failures)
	}
	fmt.Fprintf(b, "%-20s %9d %7d\n", "total", r.Requests, r.Failures)
	fmt.Fprintf(b, "\n%d distinct backends served requests.\n", r.Backends)
	for _, p := range r.Phases {
		for _, f := range p.Failed {
			fmt.Fprintf(b, "failed during %s: %s\n", p.Name, f)
		}
	}
	fmt.Fprintf(b, "\nnew container   docker run returned -> first request served through nginx\n")
	for _, s := range r.Started {
		fmt.Fprintf(b, "%-14s  %5d ms  (%s)\n", s.Host, s.Propagation.Milliseconds(), s.Phase)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("print the report: %w", err)
	}
	return nil
}
