package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const (
	defaultPerms os.FileMode = 0o644
	dirPerms     os.FileMode = 0o755
)

// target is a destination file and how it is written.
type target struct {
	path       string
	perms      os.FileMode // 0: keep the existing file's mode, else defaultPerms
	uid, gid   int         // -1: keep the existing file's owner, else the process's
	backup     bool
	atomic     bool
	createDirs bool
	stream     bool // set by resolve: a device, FIFO or socket, written by send
}

// onDisk is the destination as it is before a write.
type onDisk struct {
	exists   bool
	same     bool   // it holds the bytes read was given
	content  []byte // only with backup, which copies it
	mode     os.FileMode
	uid, gid int
}

// read returns the destination as it is now and whether it holds out. It
// compares piece by piece and keeps the content only when a backup needs
// it, so that a large destination is not held in memory beside its render.
// Its errors name the file.
func (t target) read(out []byte) (onDisk, error) {
	f, err := os.Open(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return onDisk{}, nil
	}
	if err != nil {
		return onDisk{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return onDisk{}, err
	}
	cur := onDisk{exists: true, mode: fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky),
		uid: -1, gid: -1}
	if t.backup {
		if cur.content, err = io.ReadAll(f); err != nil {
			return onDisk{}, err
		}
		cur.same = bytes.Equal(cur.content, out)
	} else if fi.Size() == int64(len(out)) {
		if cur.same, err = holds(f, out); err != nil {
			return onDisk{}, err
		}
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		cur.uid, cur.gid = int(st.Uid), int(st.Gid)
	}
	return cur, nil
}

// holds reports whether r holds exactly want.
func holds(r io.Reader, want []byte) (bool, error) {
	buf := make([]byte, min(len(want)+1, 32<<10))
	for {
		n, err := io.ReadFull(r, buf[:min(len(buf), len(want)+1)])
		if n > len(want) || !bytes.Equal(buf[:n], want[:n]) {
			return false, nil
		}
		want = want[n:]
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return len(want) == 0, nil
		case err != nil:
			return false, err
		}
	}
}

// upToDate reports whether the destination already holds the render read
// was given, with the configured owner; fixMode sees to its mode.
func (t target) upToDate(cur onDisk) bool {
	return cur.exists && cur.same && (t.uid < 0 || cur.uid == t.uid) && (t.gid < 0 || cur.gid == t.gid)
}

// fixMode gives an up-to-date destination the configured mode when it has
// another (someone ran chmod, or perms changed), and reports whether it
// did. Its content is current, so it is not written again and the command
// does not run; consul-template left such a file's mode as it was.
func (t target) fixMode(cur onDisk) (bool, error) {
	if t.stream || t.perms == 0 || cur.mode == t.perms {
		return false, nil
	}
	if err := os.Chmod(t.path, t.perms); err != nil {
		return false, fmt.Errorf("chmod %s %s: %w", t.path, t.perms, err)
	}
	return true, nil
}

// mode is the new file's mode: perms, else the existing file's, else 0644.
func (t target) mode(cur onDisk) os.FileMode {
	switch {
	case t.perms != 0:
		return t.perms
	case cur.exists:
		return cur.mode
	}
	return defaultPerms
}

// tempPrefix starts the names of this destination's temp files. They are
// hidden and end in .tmp, so that globs like nginx's conf.d/*.conf never
// include a candidate, and removeStale can find the ones a kill -9 left.
func (t target) tempPrefix() string { return "." + filepath.Base(t.path) + ".drcon-" }

// write replaces the destination with out. When check is not nil it is
// called with the path of the candidate, a file in the destination's
// directory with the final content, mode and owner, and may refuse it; the
// destination is then left untouched. The candidate never outlives write.
//
// With atomic (the default) the candidate is fsynced and renamed over the
// destination, and the directory fsynced: readers, and a crash at any
// moment, see the old file or the new one, never a mix.
//
// Without atomic the destination is rewritten in place (write at offset 0,
// truncate, fsync), which keeps its inode: a Docker bind mount of the single
// file keeps seeing it (consul-template #1410), whereas a rename leaves the
// container with the old inode. The price: a reader during the write, or a
// crash, can see a partly written file. Writing before truncating means the
// file is never empty and, when the new content is at least as long as the
// old, never has a stale tail.
//
// A stream destination (see resolve) is sent the output instead.
func (t target) write(cur onDisk, out []byte, check func(candidate string) error) (err error) {
	if t.stream {
		return t.send(out, check)
	}
	dir := filepath.Dir(t.path)
	if err := t.ensureDir(dir); err != nil {
		return err
	}
	mode := t.mode(cur)
	if t.atomic || check != nil {
		tmp, err := t.stage(dir, out, mode, &cur)
		if err != nil {
			return err
		}
		installed := false
		defer func() {
			if !installed {
				os.Remove(tmp) // best effort: the write already failed
			}
		}()
		if check != nil {
			if err := check(tmp); err != nil {
				return err
			}
		}
		if err := t.keepBackup(dir, cur); err != nil {
			return err
		}
		if t.atomic {
			if err := os.Rename(tmp, t.path); err != nil {
				return fmt.Errorf("rename %s to %s: %w", tmp, t.path, err)
			}
			installed = true
			return syncDir(dir)
		}
	} else if err := t.keepBackup(dir, cur); err != nil {
		return err
	}
	return t.writeInPlace(cur, out, mode)
}

func (t target) ensureDir(dir string) error {
	if t.createDirs {
		if err := os.MkdirAll(dir, dirPerms); err != nil {
			return fmt.Errorf("create directory %s: %w", dir, err)
		}
		return nil
	}
	if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("directory of %s (create_dest_dirs is off): %w", t.path, err)
	}
	return nil
}

// stage writes out to a new temp file in dir with its final mode and, when
// cur is not nil, owner, fsynced and closed, and returns its path.
func (t target) stage(dir string, out []byte, mode os.FileMode, cur *onDisk) (path string, err error) {
	f, err := os.CreateTemp(dir, t.tempPrefix()+"*.tmp")
	if err != nil {
		return "", fmt.Errorf("write %s: create temp file: %w", t.path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(out); err != nil {
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	// The owner before the mode: a change of owner clears setuid and
	// setgid. The mode explicitly, because CreateTemp makes 0600 files and
	// the umask applies.
	if cur != nil {
		if err := t.chown(f, *cur); err != nil {
			return "", err
		}
	}
	if err := f.Chmod(mode); err != nil {
		return "", fmt.Errorf("write %s: chmod %s: %w", t.path, mode, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("write %s: fsync: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// chown gives f the configured owner, or else the existing file's. Failing
// to set a configured owner is an error; keeping the existing one is best
// effort, as it is bound to fail for a process that is not root.
func (t target) chown(f *os.File, cur onDisk) error {
	uid, gid := t.uid, t.gid
	if uid < 0 && cur.exists && cur.uid != os.Geteuid() {
		uid = cur.uid
	}
	if gid < 0 && cur.exists && cur.gid != os.Getegid() {
		gid = cur.gid
	}
	if uid < 0 && gid < 0 {
		return nil
	}
	if err := f.Chown(uid, gid); err != nil && (t.uid >= 0 || t.gid >= 0) {
		// Name the destination, which the operator knows, not the temp file.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("set owner of %s to %d:%d: %w", t.path, uid, gid, err)
	}
	return nil
}

// keepBackup saves the current file as DEST.bak, atomically, so that a
// crash never leaves a half backup either. When the new file replaces the
// old one by a rename, the backup is a hard link to the old one, as
// consul-template makes it: its owner, mode and mtime are the old file's.
// The in-place mode rewrites that very inode, so it keeps a copy instead
// (owned by this process: a copy for the operator, not a file a service
// reads).
func (t target) keepBackup(dir string, cur onDisk) error {
	if !t.backup || !cur.exists {
		return nil
	}
	var tmp string
	var err error
	if t.atomic {
		tmp, err = t.link(dir)
	} else {
		tmp, err = t.stage(dir, cur.content, cur.mode, nil)
	}
	if err != nil {
		return fmt.Errorf("backup %s: %w", t.path, err)
	}
	if err := os.Rename(tmp, t.path+".bak"); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup %s: %w", t.path, err)
	}
	return nil
}

// link makes a hard link to the destination under a temp name in dir.
func (t target) link(dir string) (string, error) {
	for i := 0; ; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf("%sbak-%d-%d.tmp", t.tempPrefix(), os.Getpid(), i))
		err := os.Link(t.path, tmp)
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return tmp, err
		}
	}
}

func (t target) writeInPlace(cur onDisk, out []byte, mode os.FileMode) error {
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_CREATE, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	defer f.Close()
	if _, err := f.WriteAt(out, 0); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if err := f.Truncate(int64(len(out))); err != nil {
		return fmt.Errorf("write %s: truncate: %w", t.path, err)
	}
	if err := t.chown(f, cur); err != nil { // before the mode: see stage
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: chmod %s: %w", t.path, mode, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", t.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// removeStale deletes temp files of this destination that a killed process
// left behind.
func (t target) removeStale() error {
	if rt, err := t.resolve(); err == nil { // else the write will say why
		if rt.stream {
			return nil
		}
		t = rt
	}
	entries, err := os.ReadDir(filepath.Dir(t.path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look for stale temp files of %s: %w", t.path, err)
	}
	var errs []error
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, t.tempPrefix()) && strings.HasSuffix(name, ".tmp") {
			if err := os.Remove(filepath.Join(filepath.Dir(t.path), name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
