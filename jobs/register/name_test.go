package register

import (
	"testing"

	docker "github.com/fsouza/go-dockerclient"
)

func TestDefaultName(t *testing.T) {
	const id = "sha256:4f3a2b9c1d0e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a"
	cases := []struct {
		image, imageID, name string
		labels               map[string]string
		want                 string
	}{
		{image: "redis", want: "redis"},
		{image: "gliderlabs/foobar:1.2", want: "foobar"},
		{image: "registry.example:5000/team/app:1", want: "app"},
		{image: "team/img@sha256:abcd", want: "img"}, // registrator #530
		{image: "team/img:2@sha256:abcd", want: "img"},
		{image: "my_app.v2", want: "my-app-v2"}, // DNS-safe
		{image: "UPPER", want: "upper"},
		{image: id, imageID: id, name: "/c1", labels: map[string]string{composeServiceLabel: "web_1"}, want: "web-1"}, // #701
		{image: id, imageID: id, name: "/c_1", want: "c-1"},
		{image: "4f3a2b9c1d0e", imageID: id, name: "/c2", want: "c2"},
		{image: "4f3a2b9c1d0e", imageID: "sha256:ffff", want: "4f3a2b9c1d0e"}, // a name that only looks like an ID
		{image: "", name: "/only-name", want: "only-name"},
		{image: "___", name: "/x", want: "x"},
	}
	for _, c := range cases {
		ct := &docker.Container{Name: c.name, Image: c.imageID, Config: &docker.Config{Image: c.image, Labels: c.labels}}
		if got := defaultName(ct); got != c.want {
			t.Errorf("defaultName(image %q, name %q) = %q, want %q", c.image, c.name, got, c.want)
		}
	}
	if got := defaultName(&docker.Container{ID: "0123456789abcdef"}); got != "0123456789ab" {
		t.Errorf("defaultName without config = %q", got)
	}
}
