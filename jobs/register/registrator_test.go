package register

import (
	"slices"
	"testing"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

// Cases read from gliderlabs/registrator's source (master, v7.4.0), each
// naming its file and function, where drcon registered something else
// without README.md's "Registrator conventions" saying so. The differences
// that README documents as chosen (trimmed and deduplicated tags, a check
// path without its leading "/", addresses on user-defined networks and with
// --network none, ...) are tested as drcon's behaviour elsewhere.

// hostContainer is a running container named /app from image "team/app:1"
// on the host's network, with env and exposed ports.
func hostContainer(env, exposed []string) *docker.Container {
	c := &docker.Container{
		ID:              "3f1c0d2b9a8e7f6d5c4b3a29181716151413121110f0e0d0c0b0a09080706050",
		Name:            "/app",
		Config:          &docker.Config{Image: "team/app:1", Env: env, ExposedPorts: map[docker.Port]struct{}{}},
		HostConfig:      &docker.HostConfig{NetworkMode: "host"},
		NetworkSettings: &docker.NetworkSettings{Networks: map[string]docker.ContainerNetwork{"host": {}}},
	}
	c.State.Running = true
	for _, p := range exposed {
		c.Config.ExposedPorts[docker.Port(p)] = struct{}{}
	}
	return c
}

// TestHostNetworkingSuffix: bridge/bridge.go add, with --net=host, makes
// every Config.ExposedPorts entry a service port and counts them all for
// isGroup, so newService names port 80 SERVICE_NAME-80 when 443 is exposed
// too, also when SERVICE_443_IGNORE ignores 443 (it counted before it
// looked at that). drcon registers only the declared port (README), under
// that name.
func TestHostNetworkingSuffix(t *testing.T) {
	for _, tt := range []struct {
		exposed []string
		env     []string
		want    string
	}{
		{[]string{"80/tcp", "443/tcp"}, nil, "web-80"},
		{[]string{"80/tcp"}, nil, "web"},
		{[]string{"80/tcp", "80/udp"}, nil, "web-80"}, // registrator counted tcp and udp apart
		{[]string{"80/tcp", "443/tcp"}, []string{"SERVICE_443_IGNORE=1"}, "web-80"},
	} {
		c := hostContainer(append([]string{"SERVICE_NAME=web", "SERVICE_80_CHECK_TCP=true"}, tt.env...), tt.exposed)
		s, err := newSettings(&config.Registrator{})
		if err != nil {
			t.Fatal(err)
		}
		services, warns := buildServices(c, nil, s, testIdentity)
		id := testIdentity.Host + ":app:80"
		var names []string
		for _, svc := range services {
			if svc.Reg.ID == id && svc.Reg.Name != tt.want {
				t.Errorf("EXPOSE %v: port 80 registered as %q, registrator registered %q", tt.exposed, svc.Reg.Name, tt.want)
			}
			names = append(names, svc.Reg.ID)
		}
		if !slices.Contains(names, id) {
			t.Errorf("EXPOSE %v: no service %s among %v (warnings %v)", tt.exposed, id, names, warns)
		}
	}
}
