// Command sigchild is the exec child of BenchmarkExecReloadLatency: it
// copies the file $SIGCHILD_SRC to $SIGCHILD_DST when it starts and on each
// SIGHUP, and exits on SIGINT or SIGTERM. It takes no argument, so that
// both programs run it without a shell.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	src, dst := os.Getenv("SIGCHILD_SRC"), os.Getenv("SIGCHILD_DST")
	if src == "" || dst == "" {
		os.Stderr.WriteString("sigchild: set SIGCHILD_SRC and SIGCHILD_DST\n")
		os.Exit(2)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM)
	copyFile(src, dst)
	for sig := range sigs {
		if sig != syscall.SIGHUP {
			return
		}
		copyFile(src, dst)
	}
}

// copyFile writes src's content to dst through a rename, so that a reader
// never sees half of it.
func copyFile(src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		return
	}
	tmp := dst + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		_ = os.Rename(tmp, dst)
	}
}
