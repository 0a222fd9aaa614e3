package template

import (
	"fmt"
	"maps"
	"os"
	"slices"
)

// consul-template answers the file function from its cache of dependency
// data. The cache has nothing for a path on the pass that first asks for it,
// so that pass sees "" (Execute replays it); the file is read right after,
// and every later render sees what it held then, until consul-template's
// poll (size and modification time, every 2 s) finds it changed, or until a
// pass does not use it: consul-template then forgets it, and a later pass
// that asks for it again starts over. A template that writes a file with
// writeToFile and reads it back with file therefore renders what the file
// held before that write. drcon keeps the same cache per template; a job
// re-reads it when its watch on the files' directories reports a change
// (RereadFiles), or before every render when it cannot watch them.

// fileRead is what reading a file gave.
type fileRead struct {
	contents string
	err      error
}

func readFile(path string) fileRead {
	b, err := os.ReadFile(path)
	if err != nil {
		return fileRead{err: fmt.Errorf("file(%s): %w", path, err)}
	}
	return fileRead{contents: string(b)}
}

func (r fileRead) same(o fileRead) bool {
	if r.err != nil || o.err != nil {
		return r.err != nil && o.err != nil && r.err.Error() == o.err.Error()
	}
	return r.contents == o.contents
}

// cachedFile returns what path held when the template read it; ok is false
// for a path the file function never answered. A read that failed is tried
// again.
func (t *Template) cachedFile(path string) (r fileRead, ok bool) {
	t.filesMu.Lock()
	defer t.filesMu.Unlock()
	if r, ok = t.files[path]; ok && r.err != nil {
		r = readFile(path)
		t.files[path] = r
	}
	return r, ok
}

// readNew reads the paths the file function has just answered with "" and
// keeps what they hold.
func (t *Template) readNew(paths []string) {
	if len(paths) == 0 {
		return
	}
	t.filesMu.Lock()
	defer t.filesMu.Unlock()
	if t.files == nil {
		t.files = map[string]fileRead{}
	}
	for _, p := range paths {
		if _, ok := t.files[p]; !ok {
			t.files[p] = readFile(p)
		}
	}
}

// forget drops the files that a pass which succeeded did not use, from the
// cache and from reads: consul-template forgets the data of every
// dependency a pass did not use, so the next pass that uses the file again
// gets "" for it, as on its first use, and then what it holds by then.
// used is sorted.
func (t *Template) forget(used []string, reads map[string]fileRead) {
	unused := func(p string) bool {
		_, found := slices.BinarySearch(used, p)
		return !found
	}
	maps.DeleteFunc(reads, func(p string, _ fileRead) bool { return unused(p) })
	t.filesMu.Lock()
	defer t.filesMu.Unlock()
	maps.DeleteFunc(t.files, func(p string, _ fileRead) bool { return unused(p) })
}

// RereadFiles reads again every file the template has read and reports
// whether any of them now holds something else (or fails otherwise), that
// is, whether a render could differ.
func (t *Template) RereadFiles() bool {
	t.filesMu.Lock()
	defer t.filesMu.Unlock()
	changed := false
	for p, old := range t.files {
		if r := readFile(p); !r.same(old) {
			t.files[p], changed = r, true
		}
	}
	return changed
}
