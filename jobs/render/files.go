package render

import (
	"log/slog"
	"maps"
	"path/filepath"
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
// both ends: an edit of the file it names comes as an event there, and a
// link swapped to another file (a Kubernetes ConfigMap's ..data) ends with
// the old file's removal there.
func (f *fileWatch) watch(paths []string) {
	files := map[string]bool{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			continue
		}
		files[abs] = true
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			files[real] = true
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
