package render

import (
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// An edit of a template file settles before the file is read again: editors
// and shell redirections write a file in several steps (truncate, write,
// chmod, rename), and reading it midway would render half a template.
const (
	editQuiet = 100 * time.Millisecond
	editMax   = time.Second
)

// fileWatch tells a job when its template file, or a file its template
// reads, changes. It watches the directories, not the files: editors save
// by renaming a new file over the old one, which ends a watch on the file.
// It is owned by the job's Run goroutine.
type fileWatch struct {
	log      *slog.Logger
	w        *fsnotify.Watcher // nil until there is a file to watch
	disabled bool              // the watcher could not be created; logged once
	dirs     map[string]bool
	files    map[string]bool
	unseen   bool // a file's directory is not watched
}

// blind reports whether a watched file could change without an event.
func (f *fileWatch) blind() bool { return f.disabled || f.unseen }

// watch sets the files to watch. A path through symlinks is watched at
// each link and at the file it names (see chain).
func (f *fileWatch) watch(paths []string) {
	files := map[string]bool{}
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(p) {
			// Not filepath.Abs, which cleans "link/.." to the link's own
			// directory: the kernel, and chain, go to its target's parent.
			wd, err := os.Getwd()
			if err != nil {
				continue
			}
			abs = wd + string(filepath.Separator) + p
		}
		for _, name := range chain(abs) {
			files[name] = true
		}
	}
	if f.disabled || maps.Equal(files, f.files) {
		return
	}
	if f.w == nil && len(files) > 0 {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			// Typically fs.inotify.max_user_instances; the job still renders
			// on data changes and on SIGHUP.
			f.log.Warn("cannot watch template files; edits need a reload", "error", err)
			f.disabled = true
			return
		}
		f.w = w
	}
	dirs := map[string]bool{}
	for p := range files {
		dirs[filepath.Dir(p)] = true
	}
	for d := range f.dirs {
		if !dirs[d] {
			_ = f.w.Remove(d) // the directory may be gone already
		}
	}
	for d := range dirs {
		if !f.dirs[d] {
			if err := f.w.Add(d); err != nil {
				f.log.Warn("cannot watch directory of template files", "dir", d, "error", err)
				delete(dirs, d)
			}
		}
	}
	f.dirs, f.files, f.unseen = dirs, files, false
	for p := range files {
		f.unseen = f.unseen || !dirs[filepath.Dir(p)]
	}
}

// chain returns the names a change of what path reads comes as an event
// under: each symlink met resolving path, in its last element or in a
// directory above it, and the file it resolves to. An edit comes at the
// file; a link re-pointed (update-alternatives' /etc/alternatives/NAME, a
// deploy's "current" directory link) comes in that link's directory only.
// Each is named in its directory's real path: a directory watched under two
// names reports its events under the first only.
func chain(path string) []string {
	var names []string
	done, todo := "/", split(path)
	for links := 0; len(todo) > 0; {
		p := filepath.Join(done, todo[0])
		todo = todo[1:]
		target, err := os.Readlink(p)
		if err != nil || links == maxLinks {
			done = p // not a link, or missing: read as it is named
			continue
		}
		links++
		names = append(names, p)
		if filepath.IsAbs(target) {
			done = "/"
		}
		todo = append(split(target), todo...)
	}
	return append(names, done)
}

// split returns the elements of path, without empty ones.
func split(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == filepath.Separator })
}

// events delivers the events of the watched directories; nil (never ready)
// when nothing is watched.
func (f *fileWatch) events() <-chan fsnotify.Event {
	if f.w == nil {
		return nil
	}
	return f.w.Events
}

// errors delivers the watcher's errors, which must be drained for events to
// keep flowing.
func (f *fileWatch) errors() <-chan error {
	if f.w == nil {
		return nil
	}
	return f.w.Errors
}

// relevant reports whether ev changed the content of a watched file.
func (f *fileWatch) relevant(ev fsnotify.Event) bool {
	return f.files[ev.Name] && ev.Has(fsnotify.Create|fsnotify.Write|fsnotify.Remove|fsnotify.Rename)
}

func (f *fileWatch) close() {
	if f.w != nil {
		f.w.Close()
	}
}
