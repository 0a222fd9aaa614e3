package render

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary a child process of a test instead:
// "crash:DEST" writes versions of DEST forever, "chown:DEST" writes DEST
// with an owner it may not set.
const childEnv = "DRCON_RENDER_TEST_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		mode, dest, _ := strings.Cut(v, ":")
		os.Exit(child(mode, dest))
	}
	os.Exit(m.Run())
}

func child(mode, dest string) int {
	tg := target{path: dest, uid: -1, gid: -1, atomic: true, createDirs: true}
	switch mode {
	case "crash":
		// Like Run: clear what an earlier kill left, then write and write.
		if err := tg.removeStale(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for n := 1; ; n++ {
			out := version(n)
			cur, err := tg.read(out)
			if err == nil {
				err = tg.write(cur, out, nil)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Println("wrote", n)
		}
	case "chown":
		tg.uid = 0 // root's: a process that is not root may not give it away
		cur, err := tg.read([]byte("x"))
		if err == nil {
			err = tg.write(cur, []byte("x"), nil)
		}
		fmt.Print(err)
		return 0
	}
	return 2
}

// version n is a file of a size that differs from its neighbours', whose
// every line names n: a mix of two versions, or a cut one, is never one.
func version(n int) []byte {
	line := fmt.Sprintf("version %08d ..........................................\n", n)
	return bytes.Repeat([]byte(line), 4096+(n%7)*1024)
}

// whichVersion returns n if b is exactly version(n), else 0.
func whichVersion(b []byte) int {
	var n int
	if _, err := fmt.Sscanf(string(b), "version %d", &n); err != nil || !bytes.Equal(b, version(n)) {
		return 0
	}
	return n
}

// TestKill9LeavesOldOrNew kills a process that writes big files in a loop,
// at random moments, many times: the destination is always a complete
// version, and the temp files the kills leave are removed by the next run.
func TestKill9LeavesOldOrNew(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns 60 processes")
	}
	dest := filepath.Join(t.TempDir(), "big.conf")
	if err := os.WriteFile(dest, version(1), 0o644); err != nil {
		t.Fatal(err)
	}
	var strays, versions int
	last := 1
	for i := range 60 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=crash:"+dest)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let it write a file or more, then kill it at a random moment of
		// the next few: a write takes milliseconds.
		lines := bufio.NewScanner(out)
		for range 1 + rand.IntN(2) {
			if !lines.Scan() {
				t.Fatalf("child ended early: %v", lines.Err())
			}
		}
		time.Sleep(time.Duration(rand.Int64N(int64(5 * time.Millisecond))))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		b, err := os.ReadFile(dest)
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		n := whichVersion(b)
		if n == 0 {
			t.Fatalf("kill %d: the destination (%d bytes) is not a complete version", i, len(b))
		}
		if n != last {
			versions++
			last = n
		}
		strays += len(tempFiles(t, filepath.Dir(dest)))
	}
	tg := target{path: dest}
	if err := tg.removeStale(); err != nil {
		t.Fatal(err)
	}
	if left := tempFiles(t, filepath.Dir(dest)); len(left) > 0 {
		t.Errorf("temp files left after cleanup: %v", left)
	}
	// Evidence that kills landed mid-write: temp files were left behind.
	t.Logf("60 kills: %d saw a new version, %d left a temp file behind (removed by the next start)", versions, strays)
	if strays == 0 {
		t.Log("no kill landed mid-write this time")
	}
}

// A configured owner that cannot be set is an error naming the file, and
// leaves no temp file.
func TestChownFailureNamesTheFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the child as another user")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "owned.conf")
	// The test binary's own directory is private to root: run a copy.
	bin := filepath.Join(dir, "child.test")
	if b, err := os.ReadFile(os.Args[0]); err != nil || os.WriteFile(bin, b, 0o755) != nil {
		t.Fatalf("copy the test binary: %v", err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=chown:"+dest)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if want := "set owner of " + dest + " to 0:-1: operation not permitted"; string(out) != want {
		t.Errorf("error %q, want %q", out, want)
	}
	if left := tempFiles(t, dir); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("destination written: %v", err)
	}
}
