package register

import (
	"strings"
	"testing"

	"github.com/drcon/drcon/config"
	docker "github.com/fsouza/go-dockerclient"
)

// bridgeContainer is a running container named /web on the default bridge
// that exposes 80 and 81 and publishes those of published at 127.0.0.1:32768
// and up.
func bridgeContainer(labels map[string]string, exposed []string, published ...string) *docker.Container {
	c := &docker.Container{
		ID:         "9a8b7c6d5e4f30211a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081",
		Name:       "/web",
		Config:     &docker.Config{Image: "team/web:1", Labels: labels, ExposedPorts: map[docker.Port]struct{}{}},
		HostConfig: &docker.HostConfig{NetworkMode: "bridge"},
		NetworkSettings: &docker.NetworkSettings{
			Ports:    map[docker.Port][]docker.PortBinding{},
			Networks: map[string]docker.ContainerNetwork{"bridge": {IPAddress: "172.17.0.2"}},
		},
	}
	c.State.Running = true
	for _, p := range exposed {
		c.Config.ExposedPorts[docker.Port(p)] = struct{}{}
		c.NetworkSettings.Ports[docker.Port(p)] = nil
	}
	for i, p := range published {
		c.NetworkSettings.Ports[docker.Port(p)] = []docker.PortBinding{{HostIP: "127.0.0.1", HostPort: []string{"32768", "32769"}[i]}}
	}
	return c
}

// TestSettingsThatRegisterNothing: SERVICE_* settings that register
// nothing are named in a warning, where registrator passed over them with
// at most a log line of its own wording ("port 81 not published on host"),
// or in silence: a port key with the published port's number instead of the
// container's, a port key of a port not published, a container that asks
// for a service but has no port that registers, and SERVICE_IGNORE=false,
// which ignores all the same (as in registrator).
func TestSettingsThatRegisterNothing(t *testing.T) {
	two := []string{"80/tcp", "81/tcp"}
	noNetwork := func(labels map[string]string) *docker.Container {
		c := bridgeContainer(labels, []string{"80/tcp"})
		c.HostConfig.NetworkMode = "none"
		c.NetworkSettings = &docker.NetworkSettings{Ports: map[docker.Port][]docker.PortBinding{},
			Networks: map[string]docker.ContainerNetwork{"none": {}}}
		return c
	}
	cases := []struct {
		name string
		c    *docker.Container
		cfg  config.Registrator
		want []string // in the warnings, in order; none when empty
	}{
		{name: "published port's number", c: bridgeContainer(map[string]string{"SERVICE_32768_NAME": "web"}, two, "80/tcp"),
			want: []string{`label "SERVICE_32768_NAME": the container has no port 32768 (it has 80/tcp, 81/tcp)`}},
		{name: "port not published", c: bridgeContainer(map[string]string{"SERVICE_81_NAME": "admin", "SERVICE_81_TAGS": "x"}, two, "80/tcp"),
			want: []string{`label "SERVICE_81_NAME": port 81 is not published`}},
		{name: "nothing published", c: bridgeContainer(map[string]string{"SERVICE_TAGS": "a", "SERVICE_NAME": "web"}, two),
			want: []string{`label "SERVICE_NAME": none of the container's ports (80/tcp, 81/tcp) is published`}},
		{name: "no port at all", c: bridgeContainer(map[string]string{"SERVICE_CHECK_HTTP": "/"}, nil),
			want: []string{`label "SERVICE_CHECK_HTTP": the container has no port`}},
		{name: "host network, nothing declared", c: hostContainer([]string{"SERVICE_NAME=web"}, nil),
			want: []string{`env "SERVICE_NAME": host networking: no port declared`}},

		// --network none: publishing or internal would not help.
		{name: "no network", c: noNetwork(map[string]string{"SERVICE_NAME": "web"}),
			want: []string{`label "SERVICE_NAME": the container has no network (--network none), so nothing registers`}},
		{name: "no network, internal", c: noNetwork(map[string]string{"SERVICE_NAME": "web"}), cfg: config.Registrator{Internal: true},
			want: []string{`label "SERVICE_NAME": the container has no network`}},
		{name: "no network, port key", c: noNetwork(map[string]string{"SERVICE_80_NAME": "web"}), cfg: config.Registrator{Internal: true},
			want: []string{`label "SERVICE_80_NAME": the container has no network`}},

		{name: "ignore false", c: bridgeContainer(map[string]string{"SERVICE_IGNORE": "false"}, two, "80/tcp"),
			want: []string{`label "SERVICE_IGNORE": "false" ignores all the same`}},
		{name: "port ignore 0", c: bridgeContainer(map[string]string{"SERVICE_81_IGNORE": "0"}, two, "80/tcp", "81/tcp"),
			want: []string{`label "SERVICE_81_IGNORE": "0" ignores all the same`}},

		{name: "fine", c: bridgeContainer(map[string]string{"SERVICE_80_NAME": "web"}, two, "80/tcp")},
		{name: "no settings", c: bridgeContainer(nil, two)},
		{name: "no settings, no network", c: noNetwork(nil), cfg: config.Registrator{Internal: true}},
		{name: "ignored port", c: bridgeContainer(map[string]string{"SERVICE_81_IGNORE": "1", "SERVICE_81_NAME": "x"}, two, "80/tcp")},
		// Host networking: a port left out on purpose is not "not declared".
		{name: "host network, ignored port", c: hostContainer([]string{"SERVICE_81_NAME=web", "SERVICE_80_IGNORE=1"}, two)},
		{name: "host network, only port ignored", c: hostContainer([]string{"SERVICE_NAME=web", "SERVICE_80_IGNORE=1"}, []string{"80/tcp"})},
		{name: "ignored container", c: bridgeContainer(map[string]string{"SERVICE_IGNORE": "1", "SERVICE_NAME": "x"}, two)},
		{name: "internal", c: bridgeContainer(map[string]string{"SERVICE_81_NAME": "admin"}, two), cfg: config.Registrator{Internal: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSettings(&tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, warns := buildServices(tc.c, nil, s, testIdentity)
			var got []string
			for _, w := range warns {
				got = append(got, w.String())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want it to start %q", got[i], w)
				}
			}
		})
	}
}
