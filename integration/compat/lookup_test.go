package compat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
	"github.com/drcon/drcon/template/dep"
)

// TestErrOnFailedLookup runs one consul-template configuration with
// err_on_failed_lookup = true in both tools against the same Consul.
//
// -once: a template over a key that does not exist fails in both (nothing
// written); drcon's error names the key. consul-template fails on its second
// answer, a blocking query of block_query_wait; drcon on Consul's first
// answer. Over keys that exist both render the same bytes.
//
// Daemon: with error_fatal = true both stop. With error_fatal = false
// (drcon's default) drcon keeps running, reports the failed lookup and
// renders once the key exists; consul-template has no such mode.
func TestErrOnFailedLookup(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	kv := c.Client().KV()
	if _, err := kv.Put(&api.KVPair{Key: "lk/present", Value: []byte("p")}, nil); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	write := fileWriter(t, work)
	present := write("present.ctmpl", `{{ key "lk/present" }}`+"\n")
	absent := write("absent.ctmpl", `{{ key "lk/present" }}-{{ key "lk/absent" }}`+"\n")
	// config is the same file for both tools but for the destination.
	config := func(who, src string, fatal bool) (path, dest string) {
		dest = filepath.Join(work, who+"-"+filepath.Base(src)+".out")
		path = write(fmt.Sprintf("%s-%s-%t.hcl", who, filepath.Base(src), fatal), fmt.Sprintf(`err_on_failed_lookup = true
block_query_wait     = "2s"
template {
  source      = %q
  destination = %q
  error_fatal = %t
}
`, src, dest, fatal))
		return path, dest
	}
	once := func(who, tool, src string) (out string, dest string, err error) {
		cfg, dest := config(who, src, true)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		b, err := exec.CommandContext(ctx, tool, "-once", "-config", cfg, "-consul-addr", c.Addr).CombinedOutput()
		if ctx.Err() != nil {
			t.Fatalf("%s -once over %s did not end:\n%s", who, src, b)
		}
		return string(b), dest, err
	}

	tools := []struct{ who, bin string }{{"consul-template", ctBin}, {"drcon", bin}}
	for _, tl := range tools {
		who, tool := tl.who, tl.bin
		out, dest, err := once(who, tool, present)
		if err != nil {
			t.Fatalf("%s -once over existing keys: %v\n%s", who, err, out)
		}
		if got, _ := os.ReadFile(dest); string(got) != "p\n" {
			t.Errorf("%s -once over existing keys wrote %q, want %q", who, got, "p\n")
		}
		out, dest, err = once(who, tool, absent)
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("%s -once over an absent key: %v, want a non-zero exit\n%s", who, err, out)
		}
		if _, statErr := os.Stat(dest); !errors.Is(statErr, os.ErrNotExist) {
			t.Errorf("%s -once over an absent key wrote its destination (%v)", who, statErr)
		}
		if who == "drcon" && (!strings.Contains(out, "kv.block(lk/absent)") || !strings.Contains(out, "err_on_failed_lookup")) {
			t.Errorf("drcon's error does not name the key and the setting:\n%s", out)
		}
	}

	// Daemons that stop: both.
	for _, tl := range tools {
		cfg, _ := config(tl.who, absent, true)
		p := testenv.Start(t, tl.who, exec.Command(tl.bin, "-config", cfg, "-consul-addr", c.Addr))
		err, ok := p.Wait(60 * time.Second)
		var exit *exec.ExitError
		if !ok || !errors.As(err, &exit) {
			t.Fatalf("%s daemon with error_fatal = true over an absent key: ended %t, %v; want a non-zero exit", tl.who, ok, err)
		}
	}

	// drcon's daemon that does not stop renders when the key comes.
	cfg, dest := config("drcon-daemon", absent, false)
	p := testenv.Start(t, "drcon", exec.Command(bin, "-config", cfg, "-consul-addr", c.Addr))
	testenv.WaitFor(t, 30*time.Second, "drcon to report the failed lookup", func() bool {
		return strings.Contains(p.Output(), "kv.block(lk/absent): "+dep.ErrFailedLookup.Error())
	})
	if _, err := os.Stat(dest); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the daemon wrote its destination over an absent key (%v)", err)
	}
	if _, err := kv.Put(&api.KVPair{Key: "lk/absent", Value: []byte("a")}, nil); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 30*time.Second, "the render once the key exists", func() bool {
		got, _ := os.ReadFile(dest)
		return string(got) == "p-a\n"
	})
	select {
	case <-p.Done():
		t.Fatal("drcon exited")
	default:
	}
}

// fileWriter returns a function that writes a file in dir and returns its
// path.
func fileWriter(t *testing.T, dir string) func(name, content string) string {
	return func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
}
