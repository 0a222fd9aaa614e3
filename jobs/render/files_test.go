package render

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drcon/drcon/jobs/render/rendertest"
)

// replace saves path the way editors do: a new file renamed over the old.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".swp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func content(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// An edited template is re-read and rendered; an edit that does not parse
// keeps the last good template and is reported, with its line, until fixed.
func TestTemplateEdits(t *testing.T) {
	store := rendertest.NewStore()
	store.SetKey("k", "v1")
	src := filepath.Join(t.TempDir(), "web.tmpl")
	replace(t, src, `one {{ key "k" }}`)
	cfg := newConfig(t, "web", `one {{ key "k" }}`)
	cfg.Source = src
	j := mustNew(t, cfg, store.Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "one v1" })

	replace(t, src, `two {{ key "k" }}`)
	eventually(t, "the edit (replaced)", func() bool { return content(cfg.Destination) == "two v1" })

	if err := os.WriteFile(src, []byte(`three {{ key "k" }}`), 0o644); err != nil { // written in place
		t.Fatal(err)
	}
	eventually(t, "the edit (in place)", func() bool { return content(cfg.Destination) == "three v1" })

	replace(t, src, "three\n{{ key \"k\" }\n")
	eventually(t, "the parse error", func() bool { return strings.Contains(j.Status().LastError, "web.tmpl:2") })
	store.SetKey("k", "v2") // data still renders, with the last good template
	eventually(t, "a render with the last good template", func() bool { return content(cfg.Destination) == "three v2" })
	if s := j.Status(); !strings.Contains(s.LastError, "keeping the last good template") {
		t.Errorf("the parse error must stay reported until fixed: %q", s.LastError)
	}

	replace(t, src, `four {{ key "k" }}`)
	eventually(t, "the fix, and its error gone", func() bool {
		return content(cfg.Destination) == "four v2" && j.Status().LastError == ""
	})
}

// Files read by the template's file function are watched too.
func TestFileFunctionIsWatched(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.txt")
	replace(t, data, "a")
	cfg := newConfig(t, "web", `{{ file "`+data+`" }}`)
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "a" })
	replace(t, data, "b")
	eventually(t, "the re-render", func() bool { return content(cfg.Destination) == "b" })
}

// A template file reached through symlinks is watched at the file it names:
// edited in place, and swapped as Kubernetes swaps a ConfigMap's files (a
// new directory, ..data renamed to point at it, the old one removed).
func TestSymlinkedTemplateIsWatched(t *testing.T) {
	dir := t.TempDir()
	version := func(name, body string) {
		t.Helper()
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		replace(t, filepath.Join(dir, name, "web.tmpl"), body)
	}
	version("..v1", "one")
	symlink(t, "..v1", filepath.Join(dir, "..data"))
	symlink(t, "..data/web.tmpl", filepath.Join(dir, "web.tmpl"))
	cfg := newConfig(t, "web", "one")
	cfg.Source = filepath.Join(dir, "web.tmpl")
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "one" })

	if err := os.WriteFile(filepath.Join(dir, "..v1", "web.tmpl"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit of the file the link names", func() bool { return content(cfg.Destination) == "two" })

	version("..v2", "three")
	symlink(t, "..v2", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "..v1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the swap", func() bool { return content(cfg.Destination) == "three" })

	if err := os.WriteFile(filepath.Join(dir, "..v2", "web.tmpl"), []byte("four"), 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the edit of the new file", func() bool { return content(cfg.Destination) == "four" })
}

// A file read through a chain of symlinks follows the link in the middle
// when it is re-pointed, as update-alternatives re-points
// /etc/alternatives/NAME, with no event at either end of the chain.
func TestSymlinkChainIsWatched(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b", "alt"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	replace(t, filepath.Join(dir, "a", "f"), "a")
	replace(t, filepath.Join(dir, "b", "f"), "b")
	symlink(t, filepath.Join(dir, "a", "f"), filepath.Join(dir, "alt", "cur"))
	symlink(t, filepath.Join(dir, "alt", "cur"), filepath.Join(dir, "link"))
	cfg := newConfig(t, "web", `{{ file "`+filepath.Join(dir, "link")+`" }}`)
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "a" })

	symlink(t, filepath.Join(dir, "b", "f"), filepath.Join(dir, "alt", "cur.new"))
	if err := os.Rename(filepath.Join(dir, "alt", "cur.new"), filepath.Join(dir, "alt", "cur")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the link in the middle re-pointed", func() bool { return content(cfg.Destination) == "b" })
	replace(t, filepath.Join(dir, "b", "f"), "b2")
	eventually(t, "the edit of the new file", func() bool { return content(cfg.Destination) == "b2" })
}

// A file read through a directory symlink follows the link when it is
// re-pointed, as deploys switch a "current" link to a new release and keep
// the old one.
func TestSymlinkedDirectoryIsWatched(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"r1", "r2"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		replace(t, filepath.Join(dir, d, "config"), d)
	}
	symlink(t, "r1", filepath.Join(dir, "current"))
	cfg := newConfig(t, "web", `{{ file "`+filepath.Join(dir, "current", "config")+`" }}`)
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "r1" })

	symlink(t, "r2", filepath.Join(dir, "current.new"))
	if err := os.Rename(filepath.Join(dir, "current.new"), filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the directory link re-pointed", func() bool { return content(cfg.Destination) == "r2" })
	replace(t, filepath.Join(dir, "r2", "config"), "r2!")
	eventually(t, "the edit in the new directory", func() bool { return content(cfg.Destination) == "r2!" })
}

// A link re-pointed ahead of its target (a deploy that switches before it
// unpacks) fails the render; the target appearing mends it, with no other
// change to wake the job: the files of a failed execution are watched too.
func TestSymlinkToMissingTargetIsWatched(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	replace(t, filepath.Join(dir, "a", "f"), "a")
	symlink(t, filepath.Join(dir, "a", "f"), filepath.Join(dir, "link"))
	cfg := newConfig(t, "web", `{{ file "`+filepath.Join(dir, "link")+`" }}`)
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "a" })

	symlink(t, filepath.Join(dir, "b", "f"), filepath.Join(dir, "link.new"))
	if err := os.Rename(filepath.Join(dir, "link.new"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the missing target's error", func() bool { return j.Status().State == StateError })
	replace(t, filepath.Join(dir, "b", "f"), "b")
	eventually(t, "the target appeared", func() bool { return content(cfg.Destination) == "b" })
}

// A ".." after a directory link leads to the parent of the link's target,
// as the kernel resolves it, not back to the link's own directory.
func TestDotDotAfterDirectoryLinkIsWatched(t *testing.T) {
	here, there := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(there, "r1"), 0o755); err != nil {
		t.Fatal(err)
	}
	replace(t, filepath.Join(here, "f"), "here")
	replace(t, filepath.Join(there, "f"), "there")
	symlink(t, filepath.Join(there, "r1"), filepath.Join(here, "current"))
	cfg := newConfig(t, "web", `{{ file "`+here+`/current/../f" }}`)
	j := mustNew(t, cfg, rendertest.NewStore().Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the first render", func() bool { return content(cfg.Destination) == "there" })
	replace(t, filepath.Join(there, "f"), "there2")
	eventually(t, "the edit of the file read", func() bool { return content(cfg.Destination) == "there2" })
}

// A template that writes a file it also reads settles: the write is an
// event on a watched file, and the render after it writes the same bytes,
// which is no change. consul-template re-renders it every 2 s for ever.
func TestFileWrittenAndReadSettles(t *testing.T) {
	back := filepath.Join(t.TempDir(), "back")
	store := rendertest.NewStore()
	store.SetKey("k", "v")
	cfg := newConfig(t, "web", `{{ key "k" | writeToFile "`+back+`" "" "" "0644" }}[{{ file "`+back+`" }}]`)
	j := mustNew(t, cfg, store.Subscribe(), Options{})
	startJob(t, j)
	eventually(t, "the render of the file's new content", func() bool { return content(cfg.Destination) == "[v]" })
	renders := j.Status().Renders
	time.Sleep(time.Second) // ten times the edit settling time
	if n := j.Status().Renders; n != renders {
		t.Errorf("%d renders after the file settled, want none", n-renders)
	}
	store.SetKey("k", "w")
	eventually(t, "the next value", func() bool { return content(cfg.Destination) == "[w]" })
}

func TestParseErrorNamesFileAndLine(t *testing.T) {
	cfg := newConfig(t, "web", "ok\n{{ if }}\n")
	cfg.Source = "/etc/drcon/web.tmpl"
	_, err := New(cfg, rendertest.NewStore().Subscribe(), Options{})
	if err == nil || !strings.Contains(err.Error(), `render job "web"`) || !strings.Contains(err.Error(), "/etc/drcon/web.tmpl:2") {
		t.Errorf("error %v, want the job, the file and the line", err)
	}
}
