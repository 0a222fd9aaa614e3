package render

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/jobs/render/rendertest"
	"github.com/drcon/drcon/template/dep"
)

// Under err_on_failed_lookup the source fails a key that Consul says does
// not exist (dep.ErrFailedLookup), and a daemon job fails with it: the
// status names the key, nothing is written, error_fatal decides whether
// drcon stops. Other failures (an outage) are waited out as before, and the
// key's arrival renders.
func TestDaemonFailedLookup(t *testing.T) {
	for _, fatal := range []bool{false, true} {
		store := rendertest.NewStore()
		cfg := newConfig(t, "web", `{{ key "down" }}{{ key "absent" }}`)
		cfg.ErrorFatal = fatal
		j := mustNew(t, cfg, store.Subscribe(), Options{})
		done := startJob(t, j)
		eventually(t, "the job to wait", func() bool { return j.Status().State == StateMissing })
		store.Fail(rendertest.KVBlock("down"), errors.New("connection refused"))
		store.Fail(rendertest.KVBlock("absent"), dep.ErrFailedLookup)
		if fatal {
			select {
			case err := <-done:
				if !errors.Is(err, ErrTemplateFatal) || !errors.Is(err, dep.ErrFailedLookup) {
					t.Fatalf("Run = %v, want ErrTemplateFatal for the failed lookup", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("error_fatal: Run did not end")
			}
		} else {
			eventually(t, "the job to fail", func() bool { return j.Status().State == StateError })
		}
		s := j.Status()
		if !strings.Contains(s.LastError, `render job "web": kv.block(absent): `+dep.ErrFailedLookup.Error()) ||
			strings.Contains(s.LastError, "down") {
			t.Fatalf("error_fatal %t: status error %q, want the absent key alone", fatal, s.LastError)
		}
		if content(cfg.Destination) != "" {
			t.Fatalf("error_fatal %t: destination written: %q", fatal, content(cfg.Destination))
		}
		if fatal {
			continue
		}
		store.SetKey("down", "d")
		store.SetKey("absent", "a")
		eventually(t, "the render once the key exists", func() bool { return content(cfg.Destination) == "da" })
	}
}
