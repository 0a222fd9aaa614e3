package render

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// deliver writes out through tg as a job does: resolve, read unless a
// stream, write.
func deliver(t *testing.T, tg target, out string, check func(string) error) error {
	t.Helper()
	tg, err := tg.resolve()
	if err != nil {
		return err
	}
	var cur onDisk
	if !tg.stream {
		if cur, err = tg.read([]byte(out)); err != nil {
			t.Fatal(err)
		}
	}
	return tg.write(cur, []byte(out), check)
}

func symlink(t *testing.T, to, at string) {
	t.Helper()
	if err := os.Symlink(to, at); err != nil {
		t.Fatal(err)
	}
}

func isLink(t *testing.T, path string) bool {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()&os.ModeSymlink != 0
}

// A symlinked destination: the file it names gets the content (and the
// backup beside it); the link stays a link.
func TestSymlinkDestinationKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "sites-available", "app.conf")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "app.conf")
	symlink(t, "sites-available/app.conf", link) // relative, as ln -s makes them
	tg := target{path: link, uid: -1, gid: -1, atomic: true, backup: true}
	if err := deliver(t, tg, "new", nil); err != nil {
		t.Fatal(err)
	}
	if !isLink(t, link) {
		t.Fatal("the link was replaced by a file")
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Fatalf("linked file holds %q", b)
	}
	if fi, _ := os.Stat(real); fi.Mode().Perm() != 0o640 {
		t.Errorf("linked file's mode %v, want its own 0640 kept", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(real + ".bak"); string(b) != "old" {
		t.Errorf("backup holds %q", b)
	}
	if tmp := append(tempFiles(t, dir), tempFiles(t, filepath.Dir(real))...); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}
	if err := tg.removeStale(); err != nil {
		t.Error(err)
	}
}

// A chain of links is followed to its end, which is created when missing.
func TestSymlinkChainToMissingFile(t *testing.T) {
	dir := t.TempDir()
	end := filepath.Join(dir, "end.conf")
	symlink(t, end, filepath.Join(dir, "b"))
	symlink(t, "b", filepath.Join(dir, "a"))
	tg := target{path: filepath.Join(dir, "a"), uid: -1, gid: -1, atomic: true}
	if err := deliver(t, tg, "x", nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(end); err != nil || string(b) != "x" {
		t.Fatalf("end of the chain: %q, %v", b, err)
	}
	if !isLink(t, filepath.Join(dir, "a")) || !isLink(t, filepath.Join(dir, "b")) {
		t.Fatal("a link of the chain was replaced")
	}
}

func TestDestinationErrors(t *testing.T) {
	dir := t.TempDir()
	symlink(t, "loop-b", filepath.Join(dir, "loop-a"))
	symlink(t, "loop-a", filepath.Join(dir, "loop-b"))
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"loop-a": "too many levels of symbolic links",
		"sub":    "is a directory",
	} {
		tg := target{path: filepath.Join(dir, name), uid: -1, gid: -1, atomic: true}
		err := deliver(t, tg, "x", nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v, want one naming it and saying %q", name, err, want)
		}
	}
}

// A FIFO is written, not replaced; with no reader the write fails at once
// instead of blocking the job.
func TestFIFODestination(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tg := target{path: fifo, uid: -1, gid: -1, atomic: true, perms: 0o644}
	if err := deliver(t, tg, "nobody reads", nil); !errors.Is(err, syscall.ENXIO) {
		t.Fatalf("write without a reader: %v, want ENXIO", err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := deliver(t, tg, "to the reader", nil); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r); err != nil || string(b) != "to the reader" {
		t.Fatalf("reader got %q, %v", b, err)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the FIFO became %v", fi.Mode())
	}
}

// A link into /proc (as /dev/stdout is) is a stream: the render goes down
// the pipe behind it, and the check sees a candidate of its own.
func TestProcLinkDestination(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	link := filepath.Join(t.TempDir(), "stdout")
	symlink(t, fmt.Sprintf("/proc/self/fd/%d", pw.Fd()), link)
	tg := target{path: link, uid: -1, gid: -1, atomic: true}
	refuse := errors.New("refused")
	var checked string
	check := func(candidate string) error {
		b, _ := os.ReadFile(candidate)
		checked = string(b)
		return refuse
	}
	if err := deliver(t, tg, "refused render", check); !errors.Is(err, refuse) || checked != "refused render" {
		t.Fatalf("check saw %q, write returned %v", checked, err)
	}
	if err := deliver(t, tg, "rendered\n", func(string) error { return nil }); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if b, _ := io.ReadAll(pr); string(b) != "rendered\n" {
		t.Fatalf("pipe got %q", b)
	}
	if !isLink(t, link) {
		t.Fatal("the link was replaced")
	}
}

// A character device (a /dev/null of the test's own) keeps being one, with
// its mode, whatever perms say.
func TestDeviceDestination(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	dev := filepath.Join(t.TempDir(), "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dev, 0o666); err != nil { // mknod's mode is under the umask
		t.Fatal(err)
	}
	tg := target{path: dev, uid: 0, gid: 0, atomic: true, backup: true, perms: 0o600}
	if err := deliver(t, tg, "discarded", nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(dev)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 || fi.Mode().Perm() != 0o666 {
		t.Fatalf("the device became %v (%v)", fi.Mode(), err)
	}
	if tmp := tempFiles(t, filepath.Dir(dev)); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}
