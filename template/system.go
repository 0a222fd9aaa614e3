package template

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/davecgh/go-spew/spew"
	socktmpl "github.com/hashicorp/go-sockaddr/template"
)

// Functions that reach outside the template: external programs, the host's
// addresses, and debug output.

// pluginTimeout is how long plugin waits for its program, as consul-template.
const pluginTimeout = 30 * time.Second

// plugin runs a program with the given arguments (each trimmed, empty ones
// dropped) and returns its trimmed standard output. It runs on every
// execution, as in consul-template.
func plugin(name string, args ...string) (string, error) {
	if name == "" {
		return "", nil
	}
	argv := make([]string, 0, len(args))
	for _, a := range args {
		if a = strings.TrimSpace(a); a != "" {
			argv = append(argv, a)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), pluginTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return "", fmt.Errorf("exec %q: did not finish in %s", name, pluginTimeout)
		}
		return "", fmt.Errorf("exec %q: %s\n\nstdout:\n\n%s\n\nstderr:\n\n%s", name, err, stdout.Bytes(), stderr.Bytes())
	}
	return strings.TrimSpace(stdout.String()), nil
}

// sockaddr evaluates a go-sockaddr template expression, e.g.
// {{ sockaddr "GetPrivateIP" }}.
func sockaddr(args ...string) (string, error) {
	return socktmpl.Parse("{{ " + strings.Join(args, " ") + " }}")
}

// The spew functions dump values with go-spew; spew_dump and spew_printf
// write to the process's standard output and return "".

func spewSdump(args ...any) (string, error) { return spew.Sdump(args...), nil }

func spewSprintf(format string, args ...any) (string, error) {
	return spew.Sprintf(format, args...), nil
}

func spewDump(args ...any) (string, error) {
	spew.Dump(args...)
	return "", nil
}

func spewPrintf(format string, args ...any) (string, error) {
	spew.Printf(format, args...)
	return "", nil
}
