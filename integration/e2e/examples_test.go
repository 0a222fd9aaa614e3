package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v2"

	"github.com/drcon/drcon/agent"
	"github.com/drcon/drcon/config"
	"github.com/drcon/drcon/integration/testenv"
)

// TestExamplesValidate: every configuration in examples/ passes
// `drcon validate`.
func TestExamplesValidate(t *testing.T) {
	drcon := testenv.Drcon(t)
	root := filepath.Join(testenv.RepoRoot(t), "examples")
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d configurations in examples/: %v", len(files), files)
	}
	for _, f := range files {
		out, err := exec.Command(drcon, "validate", "-config", f).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "configuration is valid") || strings.Contains(string(out), "warning") {
			t.Errorf("drcon validate -config %s: %v\n%s", f, err, out)
		}
	}
}

// TestSystemdUnit: examples/drcon.service has the settings a unit of drcon
// needs, systemd-analyze (when present) accepts it, and drcon does what
// the unit expects of it: its ExecStartPre passes, its ExecReload reloads,
// and its KillSignal stops drcon with exit code 0, which Restart=on-failure
// does not restart.
func TestSystemdUnit(t *testing.T) {
	root := testenv.RepoRoot(t)
	unitPath := filepath.Join(root, "examples", "drcon.service")
	unit := parseUnit(t, unitPath)
	for key, want := range map[string]string{
		"Service.Type":         "simple",
		"Service.ExecStartPre": "/usr/local/bin/drcon validate -config /etc/drcon/drcon.hcl",
		"Service.ExecStart":    "/usr/local/bin/drcon -config /etc/drcon/drcon.hcl",
		"Service.ExecReload":   "/bin/kill -HUP $MAINPID",
		"Service.KillSignal":   "SIGTERM",
		"Service.Restart":      "on-failure",
		"Install.WantedBy":     "multi-user.target",
	} {
		if got := unit[key]; got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}

	drcon := testenv.Drcon(t)
	text, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		local := filepath.Join(t.TempDir(), "drcon.service")
		if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(text), "/usr/local/bin/drcon", drcon)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(analyze, "verify", "--man=no", local).CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	} else {
		t.Log("systemd-analyze is not installed: the unit was checked by its keys only")
	}

	// The unit's commands, with a configuration that needs no Consul.
	dir := t.TempDir()
	port := testenv.FreePort(t)
	conf := filepath.Join(dir, "drcon.hcl")
	if err := os.WriteFile(conf, []byte(`status {
  address = "127.0.0.1:`+strconv.Itoa(port)+`"
}
template "motd" {
  contents    = "hello\n"
  destination = "`+filepath.Join(dir, "motd")+`"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	command := func(key string) []string {
		f := strings.Fields(strings.ReplaceAll(unit[key], "/etc/drcon/drcon.hcl", conf))
		if len(f) > 0 && f[0] == "/usr/local/bin/drcon" {
			f[0] = drcon
		}
		return f
	}
	pre := command("Service.ExecStartPre")
	if out, err := exec.Command(pre[0], pre[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecStartPre: %v\n%s", err, out)
	}
	start := command("Service.ExecStart")
	p := testenv.Start(t, "drcon", exec.Command(start[0], start[1:]...))
	status := func() agent.Status {
		var s agent.Status
		resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/v1/status")
		if err == nil {
			defer resp.Body.Close()
			_ = json.NewDecoder(resp.Body).Decode(&s)
		}
		return s
	}
	testenv.WaitFor(t, 30*time.Second, "drcon to be healthy", func() bool { return status().Healthy })

	reload := command("Service.ExecReload")
	reload[len(reload)-1] = strconv.Itoa(p.Cmd.Process.Pid) // systemd's $MAINPID
	if out, err := exec.Command(reload[0], reload[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("ExecReload: %v\n%s", err, out)
	}
	testenv.WaitFor(t, 30*time.Second, "the reload", func() bool { return status().LastReload != nil })

	sig := unit["Service.KillSignal"]
	if sig != "SIGTERM" {
		t.Fatalf("KillSignal %q", sig)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err, ok := p.Wait(30 * time.Second); !ok || err != nil {
		t.Errorf("after KillSignal: exited=%v, %v (want exit code 0, which Restart=on-failure leaves alone)\n%s", ok, err, p.Output())
	}
}

// parseUnit reads a systemd unit into "Section.Key" -> value.
func parseUnit(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not a key=value line: %q", path, line)
			}
			out[section+"."+k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDockerfile: examples/Dockerfile builds an image FROM scratch from a
// static drcon, as its comment says to, and the image runs drcon.
func TestDockerfile(t *testing.T) {
	testenv.Docker(t)
	root := testenv.RepoRoot(t)
	ctxDir := t.TempDir()
	build := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(ctxDir, "drcon"), "./cmd/drcon")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tag := "drcon-example:e2e-" + strconv.Itoa(os.Getpid())
	docker(t, "build", "-q", "-f", filepath.Join(root, "examples", "Dockerfile"), "-t", tag, ctxDir)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = exec.CommandContext(ctx, "docker", "rmi", "-f", tag).Run()
	})
	if out := docker(t, "run", "--rm", tag, "version"); !strings.HasPrefix(out, "drcon ") {
		t.Errorf("docker run %s version: %q", tag, out)
	}
	// The image's only file is drcon: it runs with no libc and no shell.
	if out := docker(t, "image", "inspect", "-f", "{{len .RootFS.Layers}}", tag); out != "1" {
		t.Errorf("the image has %s layers, want 1 (FROM scratch, one COPY)", out)
	}
	out := docker(t, "run", "--rm", "-v", filepath.Join(root, "examples")+":/etc/drcon:ro", tag,
		"validate", "-config", "/etc/drcon/compose/registrator.hcl")
	if !strings.Contains(out, "configuration is valid") {
		t.Errorf("validate in the image: %q", out)
	}
}

// TestComposeFile: examples/compose/docker-compose.yml is valid and wires
// what its services need. Images cannot be pulled here, so the stack is not
// started: docker-compose config checks the file when it is installed;
// either way its structure is checked against the files it names.
func TestComposeFile(t *testing.T) {
	root := testenv.RepoRoot(t)
	dir := filepath.Join(root, "examples", "compose")
	path := filepath.Join(dir, "docker-compose.yml")
	if bin, err := exec.LookPath("docker-compose"); err == nil {
		if out, err := exec.Command(bin, "-f", path, "config", "-q").CombinedOutput(); err != nil {
			t.Errorf("docker-compose config: %v\n%s", err, out)
		}
	} else {
		t.Log("docker-compose is not installed: checked the file's structure only")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]struct {
			Image string `yaml:"image"`
			Build *struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
			Command    []string          `yaml:"command"`
			Ports      []string          `yaml:"ports"`
			Volumes    []string          `yaml:"volumes"`
			Labels     map[string]string `yaml:"labels"`
			DependsOn  []string          `yaml:"depends_on"`
			Entrypoint []string          `yaml:"entrypoint"`
			Expose     []string          `yaml:"expose"`
			Restart    string            `yaml:"restart"`
			Init       bool              `yaml:"init"`
		} `yaml:"services"`
	}
	if err := yaml.UnmarshalStrict(b, &file); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, name := range []string{"consul", "drcon", "nginx", "whoami"} {
		if _, ok := file.Services[name]; !ok {
			t.Errorf("no service %q", name)
		}
	}
	for name, s := range file.Services {
		if (s.Image == "") == (s.Build == nil) {
			t.Errorf("service %s: want exactly one of image and build", name)
		}
		if s.Build != nil {
			// Compose reads the Dockerfile relative to the build context.
			df := filepath.Join(dir, s.Build.Context, s.Build.Dockerfile)
			if _, err := os.Stat(df); err != nil {
				t.Errorf("service %s: %v", name, err)
			}
			if filepath.Join(dir, s.Build.Context) != filepath.Join(root, "bin", "docker") {
				t.Errorf("service %s: build context %s, want bin/docker, where the Dockerfile's comment builds drcon", name, s.Build.Context)
			}
		}
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("service %s publishes %s beyond loopback", name, p)
			}
		}
		for _, v := range s.Volumes {
			src := strings.Split(v, ":")[0]
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
		for _, d := range s.DependsOn {
			if _, ok := file.Services[d]; !ok {
				t.Errorf("service %s depends on unknown %s", name, d)
			}
		}
	}
	// The two drcon configurations, as the containers see them: examples/
	// is mounted at /etc/drcon.
	reg := file.Services["drcon"]
	if !containsAll(reg.Volumes, "/var/run/docker.sock:/var/run/docker.sock", "..:/etc/drcon:ro") ||
		strings.Join(reg.Command, " ") != "-config /etc/drcon/compose/registrator.hcl" {
		t.Errorf("drcon: volumes %v, command %v", reg.Volumes, reg.Command)
	}
	nginxDockerfile, err := os.ReadFile(filepath.Join(dir, "nginx.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(nginxDockerfile), `ENTRYPOINT ["drcon", "-config", "/etc/drcon/compose/nginx.hcl"]`) ||
		!strings.Contains(string(nginxDockerfile), "\nCMD []\n") ||
		!containsAll(file.Services["nginx"].Volumes, "../nginx.conf:/etc/nginx/nginx.conf:ro", "..:/etc/drcon:ro") {
		t.Errorf("nginx: volumes %v; nginx.Dockerfile does not run compose/nginx.hcl alone", file.Services["nginx"].Volumes)
	}
	if !file.Services["nginx"].Init {
		t.Error("nginx: drcon is PID 1 there; want init: true to reap orphans")
	}
	// drcon runs nginx in the foreground (exec mode) and reloads it by signal.
	cfg, err := config.Load([]string{filepath.Join(dir, "nginx.hcl")}, config.Overrides{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	if e := cfg.Exec; !slices.Contains(e.Command.Argv, "daemon off;") || e.ReloadSignal.Name != "SIGHUP" {
		t.Errorf("compose/nginx.hcl: exec %+v, want nginx in the foreground, reloaded by SIGHUP", e)
	}
	if w := file.Services["whoami"]; w.Labels["SERVICE_NAME"] != "whoami" || w.Labels["SERVICE_TAGS"] != "http" {
		t.Errorf("whoami labels %v: nginx.ctmpl routes services tagged http", w.Labels)
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}
