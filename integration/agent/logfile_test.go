package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestLogFile: consul-template's log_file {} writes the log's lines to
// NAME-UNIXNANO.log files too, as consul-template names them, starting a
// new one past log_rotate_bytes and keeping log_rotate_max_files earlier
// ones; a reload that removes it stops the copy.
func TestLogFile(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("k", "v0")
	logs := filepath.Join(t.TempDir(), "logs")
	d := newDrcon(t)
	config := func(extra string) string {
		return fmt.Sprintf("consul { address = %q }\n%s\ntemplate \"a\" {\n  contents = \"{{ key \\\"k\\\" }}\"\n  destination = \"$DIR/a.out\"\n}\n", c.Addr, extra)
	}
	d.write(config(fmt.Sprintf("log_file {\n  path = %q\n  log_rotate_bytes = 200\n  log_rotate_max_files = 2\n}", logs+"/drcon.log")))
	d.start()
	read := func() (names []string, text string) {
		entries, _ := os.ReadDir(logs)
		for _, e := range entries {
			names = append(names, e.Name())
			b, _ := os.ReadFile(filepath.Join(logs, e.Name()))
			text += string(b)
		}
		return names, text
	}
	for i := 1; i <= 6; i++ {
		c.PutKV("k", fmt.Sprintf("v%d", i))
		want := fmt.Sprintf("v%d", i)
		testenv.WaitFor(t, waitLimit, "render "+want, func() bool { return d.read("a.out") == want })
	}
	testenv.WaitFor(t, waitLimit, "the last line in the files", func() bool {
		_, text := read()
		return strings.Count(text, `msg="wrote destination"`) > 0 && strings.Contains(d.proc.Output(), `bytes=2`)
	})
	names, text := read()
	if len(names) != 3 {
		t.Fatalf("files %v: want the current one and 2 earlier", names)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "drcon-") || !strings.HasSuffix(n, ".log") {
			t.Fatalf("file %s: want drcon-UNIXNANO.log", n)
		}
	}
	if !strings.Contains(text, "level=INFO") {
		t.Fatalf("the files hold no log line:\n%s", text)
	}

	d.write(config(""))
	if st := d.reloadBySignal(syscall.SIGHUP); st.Outcome != "ok" {
		t.Fatalf("reload: %+v", st)
	}
	_, before := read()
	c.PutKV("k", "after")
	testenv.WaitFor(t, waitLimit, "the render after the reload", func() bool { return d.read("a.out") == "after" })
	const wrote = `msg="wrote destination"`
	if _, after := read(); strings.Count(after, wrote) != strings.Count(before, wrote) {
		t.Fatalf("the files got lines after the reload removed log_file")
	}
}
