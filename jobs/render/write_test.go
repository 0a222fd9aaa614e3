package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drcon/drcon/jobs/render/rendertest"
)

func newTarget(t *testing.T) target {
	return target{path: filepath.Join(t.TempDir(), "out.conf"), uid: -1, gid: -1, atomic: true, createDirs: true}
}

// put writes out through tg as a job would: read, then write.
func put(t *testing.T, tg target, out string, check func(string) error) error {
	t.Helper()
	cur, err := tg.read([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	return tg.write(cur, []byte(out), check)
}

func stat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

// tempFiles lists the temp files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteMode(t *testing.T) {
	old := syscall.Umask(0o077) // the mode must not depend on the umask
	defer syscall.Umask(old)
	for _, tc := range []struct {
		name     string
		perms    os.FileMode
		existing os.FileMode // 0: no file yet
		atomic   bool
		want     os.FileMode
	}{
		{"default for a new file", 0, 0, true, 0o644},
		{"keeps the existing mode", 0, 0o640, true, 0o640},
		{"perms win", 0o600, 0o640, true, 0o600},
		{"perms on a new file", 0o755, 0, true, 0o755},
		{"in place, keeps the existing mode", 0, 0o640, false, 0o640},
		{"in place, perms win", 0o600, 0o644, false, 0o600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t)
			tg.perms, tg.atomic = tc.perms, tc.atomic
			if tc.existing != 0 {
				if err := os.WriteFile(tg.path, []byte("old"), 0); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(tg.path, tc.existing); err != nil {
					t.Fatal(err)
				}
			}
			if err := put(t, tg, "new", nil); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(tg.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tc.want {
				t.Errorf("mode %v, want %v", fi.Mode().Perm(), tc.want)
			}
		})
	}
}

func TestWriteOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing owners needs root")
	}
	t.Run("configured by name", func(t *testing.T) {
		tg := newTarget(t)
		var err error
		if tg.uid, err = lookupUser("nobody"); err != nil {
			t.Fatal(err)
		}
		if tg.gid, err = lookupGroup("65534"); err != nil {
			t.Fatal(err)
		}
		if err := put(t, tg, "x", nil); err != nil {
			t.Fatal(err)
		}
		if st := stat(t, tg.path); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("owner %d:%d, want 65534:65534", st.Uid, st.Gid)
		}
	})
	t.Run("existing owner kept", func(t *testing.T) {
		tg := newTarget(t)
		if err := os.WriteFile(tg.path, []byte("old"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(tg.path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := put(t, tg, "new", nil); err != nil {
			t.Fatal(err)
		}
		if st := stat(t, tg.path); st.Uid != 65534 || st.Gid != 65534 {
			t.Errorf("owner %d:%d, want the old file's 65534:65534", st.Uid, st.Gid)
		}
	})
	// The owner is set before the mode: a change of owner clears setuid
	// and setgid.
	t.Run("setuid kept across an owner change", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			perms os.FileMode
			uid   int
		}{{"the existing file's mode and owner", 0, -1}, {"configured", 0o755 | os.ModeSetuid | os.ModeSetgid, 65534}} {
			tg := newTarget(t)
			tg.perms, tg.uid = tc.perms, tc.uid
			if err := os.WriteFile(tg.path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(tg.path, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(tg.path, 0o755|os.ModeSetuid|os.ModeSetgid); err != nil {
				t.Fatal(err)
			}
			if err := put(t, tg, "new", nil); err != nil {
				t.Fatal(err)
			}
			if st := stat(t, tg.path); st.Mode&0o7777 != 0o6755 || st.Uid != 65534 {
				t.Errorf("%s: mode %o owner %d, want 6755 and 65534", tc.name, st.Mode&0o7777, st.Uid)
			}
		}
	})
	t.Run("an atomic backup is the old file, owner and mtime too", func(t *testing.T) {
		tg := newTarget(t)
		tg.backup = true
		if err := os.WriteFile(tg.path, []byte("old"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(tg.path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := os.Chtimes(tg.path, past, past); err != nil {
			t.Fatal(err)
		}
		if err := put(t, tg, "new", nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(tg.path + ".bak")
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || !fi.ModTime().Equal(past) || fi.Mode().Perm() != 0o640 {
			t.Errorf("backup owner %d, mtime %v, mode %v; want the old file's", st.Uid, fi.ModTime(), fi.Mode().Perm())
		}
	})
	t.Run("an owner change alone is a write", func(t *testing.T) {
		tg := newTarget(t)
		if err := put(t, tg, "same", nil); err != nil {
			t.Fatal(err)
		}
		tg.uid = 65534
		cur, err := tg.read([]byte("same"))
		if err != nil {
			t.Fatal(err)
		}
		if tg.upToDate(cur) {
			t.Fatal("a file with the wrong owner is not up to date")
		}
	})
}

// TestFixMode: a destination that holds the render with another mode than
// perms gets perms by chmod: the same inode, no write (and so no command).
func TestFixMode(t *testing.T) {
	tg := newTarget(t)
	if err := put(t, tg, "same", nil); err != nil {
		t.Fatal(err)
	}
	ino := stat(t, tg.path).Ino
	tg.perms = 0o600
	cur, err := tg.read([]byte("same"))
	if err != nil {
		t.Fatal(err)
	}
	if !tg.upToDate(cur) {
		t.Fatal("a file that differs in its mode alone is not up to date")
	}
	if fixed, err := tg.fixMode(cur); !fixed || err != nil {
		t.Fatalf("fixMode = %v, %v", fixed, err)
	}
	if st := stat(t, tg.path); st.Mode&0o777 != 0o600 || st.Ino != ino {
		t.Errorf("mode %o inode %d, want 600 and the same inode %d", st.Mode&0o777, st.Ino, ino)
	}
	if cur, _ := tg.read([]byte("same")); cur.mode != 0o600 {
		t.Errorf("mode read back %v", cur.mode)
	}
	if fixed, _ := tg.fixMode(onDisk{exists: true, same: true, mode: 0o600}); fixed {
		t.Error("fixMode changed a file that has its mode")
	}
}

func TestUnknownOwnerIsAConfigError(t *testing.T) {
	cfg := newConfig(t, "web", "x")
	cfg.User = "no-such-user-drcon"
	_, err := New(cfg, rendertest.NewStore().Subscribe(), Options{})
	if err == nil || !strings.Contains(err.Error(), `render job "web": user "no-such-user-drcon"`) {
		t.Errorf("error %v, want one naming the job and the user", err)
	}
	cfg.User, cfg.Group = "", "no-such-group-drcon"
	if _, err := New(cfg, rendertest.NewStore().Subscribe(), Options{}); err == nil || !strings.Contains(err.Error(), `group "no-such-group-drcon"`) {
		t.Errorf("error %v, want one naming the group", err)
	}
}

func TestBackup(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		tg := newTarget(t)
		tg.backup, tg.atomic = true, atomic
		if err := put(t, tg, "one", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(tg.path + ".bak"); !os.IsNotExist(err) {
			t.Errorf("atomic=%v: a first write has nothing to back up: %v", atomic, err)
		}
		for _, next := range []string{"two", "three"} {
			if err := put(t, tg, next, nil); err != nil {
				t.Fatal(err)
			}
		}
		if b, _ := os.ReadFile(tg.path + ".bak"); string(b) != "two" {
			t.Errorf("atomic=%v: backup %q, want the previous content", atomic, b)
		}
		if tmp := tempFiles(t, filepath.Dir(tg.path)); len(tmp) > 0 {
			t.Errorf("temp files left: %v", tmp)
		}
	}
}

func TestCreateDestDirs(t *testing.T) {
	tg := newTarget(t)
	tg.path = filepath.Join(filepath.Dir(tg.path), "a", "b", "out.conf")
	tg.createDirs = false
	err := put(t, tg, "x", nil)
	if err == nil || !strings.Contains(err.Error(), tg.path) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v, want one naming the destination", err)
	}
	tg.createDirs = true
	if err := put(t, tg, "x", nil); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Dir(tg.path))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("directory: %v %v, want 0755", fi.Mode(), err)
	}
}

func TestAtomicReplacesInodeInPlaceKeepsIt(t *testing.T) {
	for _, atomic := range []bool{true, false} {
		tg := newTarget(t)
		tg.atomic = atomic
		if err := put(t, tg, "a long first version", nil); err != nil {
			t.Fatal(err)
		}
		before := stat(t, tg.path).Ino
		if err := put(t, tg, "short", nil); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(tg.path); string(b) != "short" {
			t.Errorf("atomic=%v: content %q", atomic, b)
		}
		if same := stat(t, tg.path).Ino == before; same == atomic {
			t.Errorf("atomic=%v: inode kept = %v", atomic, same)
		}
	}
}

// No temp file survives a write that fails, whatever fails.
func TestNoTempFileLeft(t *testing.T) {
	refuse := errors.New("refused")
	for _, tc := range []struct {
		name  string
		setup func(tg *target)
		check func(string) error
	}{
		{"check refuses", nil, func(string) error { return refuse }},
		{"check refuses, in place", func(tg *target) { tg.atomic = false }, func(string) error { return refuse }},
		{"rename fails", func(tg *target) { os.Mkdir(tg.path, 0o755) }, nil},
		{"backup fails", func(tg *target) {
			tg.backup = true
			os.WriteFile(tg.path, []byte("old"), 0o644)
			os.Mkdir(tg.path+".bak", 0o755)
			os.WriteFile(tg.path+".bak/x", nil, 0o644) // a non-empty directory cannot be renamed over
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := newTarget(t)
			if tc.setup != nil {
				tc.setup(&tg)
			}
			cur, _ := tg.read([]byte("new")) // fails when the destination is a directory
			if err := tg.write(cur, []byte("new"), tc.check); err == nil {
				t.Fatal("the write should fail")
			}
			if tmp := tempFiles(t, filepath.Dir(tg.path)); len(tmp) > 0 {
				t.Errorf("temp files left: %v", tmp)
			}
		})
	}
}

func TestRemoveStale(t *testing.T) {
	tg := newTarget(t)
	dir := filepath.Dir(tg.path)
	for _, name := range []string{".out.conf.drcon-123.tmp", ".out.conf.drcon-9.tmp", ".other.conf.drcon-1.tmp", "keep.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.removeStale(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tempFiles(t, dir), " ")
	if got != ".other.conf.drcon-1.tmp keep.tmp" {
		t.Errorf("left %q: only this destination's temp files go", got)
	}
}

func TestReadComparesWithTheRender(t *testing.T) {
	big := strings.Repeat("upstream web { server 127.0.0.1:80; }\n", 2000) // over one 32 KB piece
	for _, tc := range []struct {
		name, onDisk, out string
		same              bool
	}{
		{"equal", "abc", "abc", true},
		{"both empty", "", "", true},
		{"same size, other bytes", "abc", "abd", false},
		{"file longer", "abcd", "abc", false},
		{"file shorter", "ab", "abc", false},
		{"large, equal", big, big, true},
		{"large, last byte differs", big[:len(big)-1] + "x", big, false},
		{"large, first byte differs", "x" + big[1:], big, false},
	} {
		for _, backup := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/backup=%v", tc.name, backup), func(t *testing.T) {
				tg := newTarget(t)
				tg.backup = backup
				if err := os.WriteFile(tg.path, []byte(tc.onDisk), 0o644); err != nil {
					t.Fatal(err)
				}
				cur, err := tg.read([]byte(tc.out))
				if err != nil {
					t.Fatal(err)
				}
				if cur.same != tc.same || tg.upToDate(cur) != tc.same {
					t.Errorf("same %v, up to date %v, want %v", cur.same, tg.upToDate(cur), tc.same)
				}
				if (!backup && cur.content != nil) || (backup && string(cur.content) != tc.onDisk) {
					t.Errorf("content kept %q with backup %v", cur.content, backup)
				}
			})
		}
	}
}
