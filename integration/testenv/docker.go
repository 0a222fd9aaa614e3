package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	docker "github.com/fsouza/go-dockerclient"
)

// Docker connects to the local Docker engine (DOCKER_HOST or the default
// socket) and checks that it answers.
func Docker(t testing.TB) *docker.Client {
	t.Helper()
	c, err := docker.NewClientFromEnv()
	if err == nil {
		err = c.Ping()
	}
	if err != nil {
		Missing(t, "docker engine", "apt-get install -y docker.io, then start dockerd (see .ci/run)", err)
	}
	return c
}

// WhoamiImage is the tag of the demo service image built FROM scratch.
const WhoamiImage = "drcon-whoami:test"

var whoamiOnce struct {
	sync.Mutex
	built bool
}

// BuildWhoami builds integration/whoami into the image WhoamiImage, once per
// test process: a static binary in a FROM scratch image that exposes 80 and
// has a HEALTHCHECK.
func BuildWhoami(t testing.TB) string {
	t.Helper()
	Docker(t)
	whoamiOnce.Lock()
	defer whoamiOnce.Unlock()
	if whoamiOnce.built {
		return WhoamiImage
	}
	if err := BuildImage(RepoRoot(t), WhoamiImage, "./integration/whoami", `FROM scratch
COPY app /whoami
EXPOSE 80
HEALTHCHECK --interval=1s --timeout=1s --start-period=1s --retries=1 CMD ["/whoami", "-check"]
ENTRYPOINT ["/whoami"]
`); err != nil {
		t.Fatalf("build %s: %v", WhoamiImage, err)
	}
	whoamiOnce.built = true
	return WhoamiImage
}

// BuildImage compiles the Go main package pkg (relative to root) statically,
// puts it next to the given Dockerfile as "app", and builds tag.
func BuildImage(root, tag, pkg, dockerfile string) error {
	dir, err := os.MkdirTemp("", "drcon-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, "app"), pkg)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	if out, err := exec.Command("docker", "build", "-q", "-t", tag, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("docker build %s: %v\n%s", tag, err, out)
	}
	return nil
}

// RemoveContainers force-removes containers, ignoring those already gone.
func RemoveContainers(c *docker.Client, ids ...string) {
	for _, id := range ids {
		_ = c.RemoveContainer(docker.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true})
	}
}
