// Command slowstart is the entrypoint of a demo service that is slow to
// listen: it waits LISTEN_DELAY (a Go duration), as an application that
// loads before it binds its port does, then runs /whoami in its place.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func main() {
	if d, err := time.ParseDuration(os.Getenv("LISTEN_DELAY")); err == nil {
		time.Sleep(d)
	}
	err := syscall.Exec("/whoami", append([]string{"/whoami"}, os.Args[1:]...), os.Environ())
	fmt.Fprintln(os.Stderr, "slowstart: exec /whoami:", err)
	os.Exit(1)
}
