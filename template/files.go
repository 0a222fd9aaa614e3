package template

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// file returns a file's contents and records its path in Result.Files so
// that the caller can watch it. A file that cannot be read is an error, as
// in consul-template (which does not retry it either). A path the template
// never read gives "" on this pass, as consul-template's first pass
// (Template.Execute); later ones get what it held when it was read.
func (x *execution) file(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if err := inSandbox(x.t.opts.SandboxPath, s); err != nil {
		return "", err
	}
	path := strings.TrimSpace(s)
	if path == "" {
		return "", fmt.Errorf("file: invalid format: %q", path)
	}
	x.files[path] = struct{}{}
	r, ok := x.reads[path]
	if !ok {
		if r, ok = x.t.cachedFile(path); !ok {
			x.fresh = append(x.fresh, path)
			return "", nil
		}
		x.reads[path] = r
	}
	return r.contents, r.err
}

// inSandbox refuses a path that does not resolve, symlinks followed, to a
// place inside sandbox. consul-template's test is that the relative path
// does not start with "..", which also refuses a file named "..x" at the top
// of the sandbox; drcon keeps that so both accept the same templates.
func inSandbox(sandbox, path string) error {
	if sandbox == "" {
		return nil
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(sandbox, resolved)
	if err != nil {
		return err
	}
	if strings.HasPrefix(rel, "..") {
		return fmt.Errorf("'%s' is outside of sandbox", path)
	}
	return nil
}

// writeToFile writes (or with the "append" flag appends) content to path,
// with "newline" adding a line break, then sets owner and permissions:
//
//	key "k" | writeToFile "/path" "user-or-uid" "group-or-gid" "0644" ["append,newline"]
//
// Empty user and group leave the owner alone. Like consul-template's, it
// writes on every execution, and it returns "".
func writeToFile(path, username, groupName, permissions string, args ...string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("writeToFile: no content to write")
	}
	flags := ""
	if len(args) == 2 {
		flags = args[0]
	}
	content := args[len(args)-1]

	p, err := strconv.ParseUint(permissions, 8, 32)
	if err != nil {
		return "", err
	}
	perm := os.FileMode(p)

	var f *os.File
	if strings.Contains(flags, "append") {
		f, err = os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, perm)
	} else {
		if _, serr := os.Stat(filepath.Dir(path)); serr != nil {
			if err := os.MkdirAll(filepath.Dir(path), os.ModePerm); err != nil {
				return "", err
			}
		}
		f, err = os.Create(path)
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	if strings.Contains(flags, "newline") {
		content += "\n"
	}
	if _, err := f.WriteString(content); err != nil {
		return "", err
	}

	if username != "" || groupName != "" {
		uid, err := lookupID(username, os.Getuid(), func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		})
		if err != nil {
			return "", err
		}
		gid, err := lookupID(groupName, os.Getgid(), func(n string) (string, error) {
			g, err := user.LookupGroup(n)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		})
		if err != nil {
			return "", err
		}
		if err := os.Chown(path, uid, gid); err != nil {
			return "", err
		}
	}
	return "", os.Chmod(path, perm)
}

// lookupID resolves a user or group name, or takes it as a numeric id when
// no such name exists; "" is def.
func lookupID(name string, def int, lookup func(string) (string, error)) (int, error) {
	if name == "" {
		return def, nil
	}
	id, err := lookup(name)
	if err != nil {
		n, convErr := strconv.Atoi(name)
		if convErr != nil {
			return 0, err
		}
		return n, nil
	}
	return strconv.Atoi(id)
}
