package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// WhoamiDockerfile builds the demo service (integration/whoami, compiled
// statically as "app") into an image FROM scratch.
const WhoamiDockerfile = `FROM scratch
COPY app /whoami
EXPOSE 80
HEALTHCHECK --interval=1s --timeout=1s --start-period=1s --retries=1 CMD ["/whoami", "-check"]
ENTRYPOINT ["/whoami"]
`

// Container is a container a stack started.
type Container struct {
	ID string
	// Returned is when `docker run` returned: what a user waits for
	// before the container can be reached, so propagation counts from it.
	Returned time.Time
}

// Host is the container's hostname, which the demo service answers with.
func (c Container) Host() string { return c.ID[:12] }

// Run starts a container with `docker run -d`, labelled as the stack's, as
// a user would.
func (s *Stack) Run(ctx context.Context, image string, args ...string) (Container, error) {
	argv := append([]string{"run", "-d", "--network", s.Network, "--label", ContainerLabel + "=" + s.o.Label}, args...)
	out, err := Docker(ctx, append(argv, image)...)
	returned := time.Now()
	if err != nil {
		return Container{}, err
	}
	if len(out) < 12 {
		return Container{}, fmt.Errorf("docker run %s: unexpected output %q", image, out)
	}
	return Container{ID: out, Returned: returned}, nil
}

// Docker runs the docker CLI and returns its trimmed output.
func Docker(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// createNetwork creates the stack's network, or keeps the one a stack
// that was not stopped left.
func createNetwork(ctx context.Context, name, label string) error {
	if _, err := Docker(ctx, "network", "inspect", name); err == nil {
		return nil
	}
	_, err := Docker(ctx, "network", "create", "--label", ContainerLabel+"="+label, name)
	return err
}

// removeContainersAndNetwork force-removes the containers that carry
// ContainerLabel with the value label, then the network.
func removeContainersAndNetwork(ctx context.Context, label, network string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := Docker(ctx, "ps", "-aq", "--filter", "label="+ContainerLabel+"="+label)
		if err != nil {
			return err
		}
		if out == "" {
			break
		}
		// A container started with --rm may be on its way out already, and
		// then rm fails for it: list again until none is left.
		_, rmErr := Docker(ctx, append([]string{"rm", "-f"}, strings.Fields(out)...)...)
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove the containers labelled %s=%s: %w", ContainerLabel, label, errors.Join(rmErr, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := Docker(ctx, "network", "inspect", network); err != nil {
		return nil // never created, or gone
	}
	_, err := Docker(ctx, "network", "rm", network)
	return err
}
