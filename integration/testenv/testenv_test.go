package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	docker "github.com/fsouza/go-dockerclient"
	"github.com/hashicorp/consul/api"
)

func TestConsulDevAgent(t *testing.T) {
	c := StartConsul(t)
	c.PutKV("hello", "world")
	p := StartProxy(t, c.Addr)
	cfg := api.DefaultConfig()
	cfg.Address = p.Addr
	cl, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kv, _, err := cl.KV().Get("hello", nil)
	if err != nil || kv == nil || string(kv.Value) != "world" {
		t.Fatalf("get through proxy: %v %v", kv, err)
	}
	if p.Requests() != 1 {
		t.Fatalf("proxy counted %d requests, want 1", p.Requests())
	}
	c.Restart()
	kv, _, err = c.Client().KV().Get("hello", nil)
	if err != nil || kv != nil {
		t.Fatalf("a restarted dev agent should be empty: %v %v", kv, err)
	}
}

func TestNginx(t *testing.T) {
	n := StartNginx(t, map[string]string{"site.conf": `server { listen 127.0.0.1:{{port}}; location / { return 200 "one\n"; } }`})
	get := func() string {
		resp, err := http.Get("http://" + n.Addr() + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := get(); got != "one\n" {
		t.Fatalf("got %q", got)
	}
	n.WriteConf("site.conf", `server { listen 127.0.0.1:{{port}}; location / { return 200 "two\n"; } }`)
	if out, err := exec.Command(n.CheckCommand()[0], n.CheckCommand()[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v %s", err, out)
	}
	n.Reload()
	WaitFor(t, 30*time.Second, "reloaded nginx", func() bool { return get() == "two\n" })
}

func TestDockerWhoami(t *testing.T) {
	c := Docker(t)
	img := BuildWhoami(t)
	ctr, err := c.CreateContainer(docker.CreateContainerOptions{
		Config: &docker.Config{Image: img, Hostname: "probe", ExposedPorts: map[docker.Port]struct{}{"80/tcp": {}}},
		HostConfig: &docker.HostConfig{PortBindings: map[docker.Port][]docker.PortBinding{
			"80/tcp": {{HostIP: "127.0.0.1", HostPort: ""}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { RemoveContainers(c, ctr.ID) })
	if err := c.StartContainer(ctr.ID, nil); err != nil {
		t.Fatal(err)
	}
	info, err := c.InspectContainerWithOptions(docker.InspectContainerOptions{ID: ctr.ID})
	if err != nil {
		t.Fatal(err)
	}
	b := info.NetworkSettings.Ports["80/tcp"]
	if len(b) == 0 {
		t.Fatalf("no binding: %+v", info.NetworkSettings.Ports)
	}
	url := fmt.Sprintf("http://127.0.0.1:%s/", b[0].HostPort)
	WaitFor(t, 30*time.Second, "whoami to answer", func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.TrimSpace(string(body)) == "probe"
	})
}

func TestExcerpt(t *testing.T) {
	lines := func(from, to int) []string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprint("line ", i))
		}
		return out
	}
	short := strings.Join(lines(1, 81), "\n")
	if got := excerpt(short); got != short {
		t.Errorf("81 lines were cut:\n%s", got)
	}
	long := strings.Join(lines(1, 1000), "\n")
	want := strings.Join(lines(1, 20), "\n") + "\n[... 920 lines left out ...]\n" + strings.Join(lines(941, 1000), "\n")
	if got := excerpt(long); got != want {
		t.Errorf("excerpt of 1000 lines:\n%s\nwant:\n%s", got, want)
	}
}
