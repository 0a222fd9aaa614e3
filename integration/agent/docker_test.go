package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// Every container a test starts carries runLabel with a value of the test's
// own, which its registrator block filters on (other tests share the
// engine), and testLabel, so that a crashed run can be cleaned up with
//
//	docker rm -f $(docker ps -aq --filter label=drcon.test=agent)
const (
	testLabel = "drcon.test"
	runLabel  = "drcon.test.run"
)

// containers starts containers of the whoami image for one test and
// removes them when it ends.
type containers struct {
	t     *testing.T
	image string
	run   string
}

func newContainers(t *testing.T) *containers {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c := &containers{t: t, image: testenv.BuildWhoami(t), run: hex.EncodeToString(b)}
	t.Cleanup(func() {
		out, _ := docker("ps", "-aq", "--filter", "label="+runLabel+"="+c.run)
		if ids := strings.Fields(out); len(ids) > 0 {
			_, _ = docker(append([]string{"rm", "-f"}, ids...)...)
		}
	})
	return c
}

// filter is the registrator block's filter for this test's containers.
func (c *containers) filter() string { return `filter = { "` + runLabel + `" = "` + c.run + `" }` }

// start runs a container that publishes its port on loopback.
func (c *containers) start() string {
	c.t.Helper()
	out, err := docker("run", "-d", "--label", testLabel+"=agent", "--label", runLabel+"="+c.run,
		"-p", "127.0.0.1::80", c.image)
	if err != nil {
		c.t.Fatalf("docker run: %v\n%s", err, out)
	}
	return out
}

func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// services lists the services of the Consul agent that run's containers
// registered (their IDs end with the container's name and port).
func services(t *testing.T, c *testenv.Consul) map[string]*api.AgentService {
	t.Helper()
	all, err := c.Client().Agent().Services()
	if err != nil {
		t.Fatalf("list services: %v", err)
	}
	out := map[string]*api.AgentService{}
	for id, s := range all {
		if s.Service == "drcon-whoami" {
			out[id] = s
		}
	}
	return out
}
