// Command rusage runs a command and prints, on one line of its standard
// output, the CPU time (user+system, nanoseconds) and the peak RSS
// (kilobytes) of that command alone; the command's own output goes to
// standard error. It exits with the command's exit code.
//
// The template benchmarks run the programs they measure through it because
// a process started by the test itself would report the test's RSS as its
// peak: Linux keeps in ru_maxrss the largest memory image a process ever
// had, and a child shares its parent's until it execs. This program's
// image is a few megabytes, below any program it measures.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rusage COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintln(os.Stderr, "rusage:", err)
		os.Exit(2)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "rusage: no resource usage on this platform")
		os.Exit(2)
	}
	fmt.Println(ru.Utime.Nano()+ru.Stime.Nano(), ru.Maxrss)
	os.Exit(cmd.ProcessState.ExitCode())
}
