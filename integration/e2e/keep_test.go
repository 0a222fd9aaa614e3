package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/drcon/drcon/integration/demo"
	"github.com/drcon/drcon/integration/testenv"
)

// TestKeptStackStops: what `make demo KEEP=1` leaves running, `make
// demo-stop` stops: the programs, the containers, the network, the
// directory.
func TestKeptStackStops(t *testing.T) {
	st := startStack(t, ".", true, func(o *demo.Options) { o.Keep = true })
	c := run(t, st, "-l", "SERVICE_NAME=whoami", "-l", "SERVICE_TAGS=http")
	waitServes(t, st, "whoami", "/", c.Host())
	if err := st.Keep(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(filepath.Dir(st.Config))
	if !demo.Kept(dir) {
		t.Fatal("Kept: the stack is not seen running")
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var state struct {
		Processes []struct {
			Name string `json:"name"`
			Pid  int    `json:"pid"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(b, &state); err != nil {
		t.Fatal(err)
	}
	if len(state.Processes) != 3 {
		t.Fatalf("state.json names %d processes, want drcon, nginx and consul:\n%s", len(state.Processes), b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := demo.StopKept(ctx, dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range state.Processes {
		testenv.WaitFor(t, 30*time.Second, p.Name+" to be gone", func() bool {
			_, err := os.Stat("/proc/" + strconv.Itoa(p.Pid))
			return os.IsNotExist(err)
		})
	}
	if out := docker(t, "ps", "-aq", "--filter", "label="+demo.ContainerLabel+"="+st.Label()); out != "" {
		t.Errorf("containers left: %s", out)
	}
	if _, err := demo.Docker(ctx, "network", "inspect", st.Network); err == nil {
		t.Errorf("network %s left", st.Network)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s left: %v", dir, err)
	}
	if demo.Kept(dir) {
		t.Error("Kept after StopKept")
	}
	testenv.WaitFor(t, 30*time.Second, "nothing to listen on the proxy port", func() bool {
		code, _ := get(st.Paths.ProxyAddr, "whoami", "/")
		return code == 0
	})
}
