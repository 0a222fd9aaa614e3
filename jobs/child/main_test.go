package child

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain handles SIGHUP, as drcon does. A test process started with
// SIGHUP ignored (under nohup) would otherwise pass that on to the shells
// it starts, which may not trap a signal ignored on entry: their reload
// signal would never be seen.
func TestMain(m *testing.M) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	os.Exit(m.Run())
}
