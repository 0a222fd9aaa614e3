package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks bounds a chain of symlinks, as the kernel's ELOOP does.
const maxLinks = 40

// resolve returns the target a write goes to.
//
// A destination that is a symlink is followed to the file it names (which
// is created when missing), so that the new content replaces that file and
// the link stays. consul-template renames over the link itself, which
// breaks /etc/resolv.conf pointing at systemd-resolved's file, or nginx's
// sites-enabled links into sites-available.
//
// A destination that is a device, FIFO or socket (/dev/null, a pipe a
// logger reads), or a link into /proc (/dev/stdout, whose targets are not
// paths), is a stream: opened and written, never read, renamed over or
// chmodded. consul-template renames a file over /dev/null, and hangs
// reading /dev/stdout or a FIFO.
func (t target) resolve() (target, error) {
	p := t.path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			t.path = p
			return t, nil
		}
		if err != nil {
			return t, fmt.Errorf("destination %s: %w", t.path, err)
		}
		switch m := fi.Mode(); {
		case m.IsRegular():
			t.path = p
			return t, nil
		case m.IsDir():
			return t, fmt.Errorf("destination %s is a directory", p)
		case m&fs.ModeSymlink == 0:
			t.stream = true // the configured path: opening it follows any links
			return t, nil
		}
		link, err := os.Readlink(p)
		if err != nil {
			return t, fmt.Errorf("destination %s: %w", t.path, err)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		if strings.HasPrefix(link, "/proc/") {
			t.stream = true
			return t, nil
		}
		p = link
	}
	return t, fmt.Errorf("destination %s: too many levels of symbolic links", t.path)
}

// send writes out to a stream destination, after check (when not nil) has
// accepted a candidate file of it in the temp directory. The open does not
// block: a FIFO that no process reads is an error at once, not a job stuck
// for good; the write then waits for the reader. O_APPEND: /dev/stdout
// redirected to a log file gets the render added, not written over the
// log's start.
func (t target) send(out []byte, check func(candidate string) error) error {
	if check != nil {
		tmp, err := t.stage(os.TempDir(), out, t.mode(onDisk{}), nil)
		if err != nil {
			return err
		}
		defer os.Remove(tmp)
		if err := check(tmp); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}
