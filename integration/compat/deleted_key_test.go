package compat

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/drcon/drcon/integration/testenv"
)

// TestDeletedKeyKeepsRendering: consul-template and drcon run as daemons over
// a template of two keys; when one key is deleted, both go on rendering
// changes of the other with the deleted key's last value (key waits for a
// key to exist, but does not stop a template once it had one), and both
// render the key's new value when it comes back. A fresh -once cannot be the
// oracle here: it would wait for the deleted key.
func TestDeletedKeyKeepsRendering(t *testing.T) {
	ctBin := testenv.ConsulTemplate(t)
	bin := testenv.Drcon(t)
	c := testenv.StartConsul(t)
	kv := c.Client().KV()
	put := func(k, v string) {
		t.Helper()
		if _, err := kv.Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("del/x", "one")
	put("del/y", "a")

	work := t.TempDir()
	src := filepath.Join(work, "t.ctmpl")
	if err := os.WriteFile(src, []byte(`{{ key "del/x" }}|{{ key "del/y" }}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{"consul-template": filepath.Join(work, "ct.out"), "drcon": filepath.Join(work, "drcon.out")}
	ctDone := startDaemon(t, ctBin, "-consul-addr", c.Addr, "-log-level", "err", "-template", src+":"+outs["consul-template"])
	drDone := startDaemon(t, bin, "-consul-addr", c.Addr, "-log-level", "warn", "-template", src+":"+outs["drcon"])

	reach := func(step, want string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			select {
			case <-ctDone:
				t.Fatalf("%s: consul-template exited", step)
			case <-drDone:
				t.Fatalf("%s: drcon exited", step)
			default:
			}
			behind := ""
			for who, path := range outs {
				if got, _ := os.ReadFile(path); !bytes.Equal(got, []byte(want)) {
					behind += who + " has " + string(got) + " "
				}
			}
			if behind == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: want %q; %s", step, want, behind)
			}
		}
	}
	reach("both keys", "one|a\n")
	if _, err := kv.Delete("del/x", nil); err != nil {
		t.Fatal(err)
	}
	put("del/y", "b")
	reach("a key deleted, the other changed", "one|b\n")
	put("del/x", "two")
	reach("the key back", "two|b\n")
}
