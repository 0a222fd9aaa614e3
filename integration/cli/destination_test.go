package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/drcon/drcon/integration/testenv"
)

// TestDestinationsThatAreNotFiles: a symlinked destination updates the file
// it names and stays a link, and /dev/stdout gets the render on drcon's
// standard output, alone with -template "in.ctmpl:/dev/stdout" too.
// consul-template replaces the link with a file, and hangs reading
// /dev/stdout (seen with v0.41.1).
func TestDestinationsThatAreNotFiles(t *testing.T) {
	c := testenv.StartConsul(t)
	c.PutKV("app/a", "1")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"sites-available/app.conf": "old\n",
		"drcon.hcl": fmt.Sprintf(`consul { address = %q }
template "stdout" {
  contents    = "a={{ key \"app/a\" }}\n"
  destination = "/dev/stdout"
}
template "linked" {
  contents    = "server {{ key \"app/a\" }};\n"
  destination = "$DIR/sites-enabled/app.conf"
  backup      = true
}
`, c.Addr),
	})
	if err := os.Mkdir(filepath.Join(dir, "sites-enabled"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "sites-enabled", "app.conf")
	if err := os.Symlink("../sites-available/app.conf", link); err != nil {
		t.Fatal(err)
	}

	r := drcon(t, dir, "-once", "-config", "drcon.hcl")
	expect(t, "-once", r, 0)
	if r.stdout != "a=1\n" {
		t.Errorf("standard output %q, want the render", r.stdout)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("sites-enabled/app.conf is no longer a link (%v)", err)
	}
	if got := read(t, dir, "sites-available/app.conf"); got != "server 1;\n" {
		t.Errorf("linked file holds %q", got)
	}
	if got := read(t, dir, "sites-available/app.conf.bak"); got != "old\n" {
		t.Errorf("backup beside the linked file holds %q", got)
	}

	// The README's way to print one render, without the -dry header
	// (consul-template #84).
	writeFiles(t, dir, map[string]string{"in.ctmpl": "b={{ key \"app/a\" }}\n"})
	r = drcon(t, dir, "-once", "-consul-addr", c.Addr, "-template", "in.ctmpl:/dev/stdout")
	expect(t, "-once -template in.ctmpl:/dev/stdout", r, 0)
	if r.stdout != "b=1\n" {
		t.Errorf("standard output %q, want the render alone", r.stdout)
	}
}
