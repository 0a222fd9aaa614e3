package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/drcon/drcon/config"
)

// logFile is the log's copy in files, rotated as consul-template rotates
// its log_file: a new file NAME-UNIXNANO.EXT at the start and whenever the
// current one holds RotateBytes or is RotateDuration old, checked before
// each line; then the earlier files beyond RotateMaxFiles are removed.
type logFile struct {
	cfg            config.LogFile
	dir, name, ext string // the files are dir/name-UNIXNANO.ext
	now            func() time.Time
	mu             sync.Mutex
	f              *os.File
	created        time.Time
	written        int64
}

// openLogFile removes what RotateMaxFiles leaves out and opens a new file.
func openLogFile(cfg config.LogFile, now func() time.Time) (*logFile, error) {
	dir, base := filepath.Split(cfg.Path)
	if base == "" {
		base = "drcon.log"
	}
	ext := filepath.Ext(base)
	if ext == "" {
		ext = ".log"
	}
	l := &logFile{cfg: cfg, dir: dir, name: strings.TrimSuffix(base, ext), ext: ext, now: now}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
	}
	if err := l.prune(); err != nil {
		return nil, err
	}
	if err := l.openNew(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) openNew() error {
	t := l.now()
	path := filepath.Join(l.dir, l.name+"-"+strconv.FormatInt(t.UnixNano(), 10)+l.ext)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.f, l.created, l.written = f, t, 0
	return nil
}

// rotated lists the files of this log, oldest first.
func (l *logFile) rotated() ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(l.dir, l.name+"-*"+l.ext))
	if err != nil {
		return nil, err
	}
	ours := slices.DeleteFunc(matches, func(m string) bool {
		stamp := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), l.name+"-"), l.ext)
		_, err := strconv.ParseInt(stamp, 10, 64)
		return err != nil
	})
	slices.Sort(ours) // same width for centuries: name order is time order
	return ours, nil
}

// prune keeps the newest RotateMaxFiles files (0: all, -1: none).
func (l *logFile) prune() error {
	if l.cfg.RotateMaxFiles == 0 {
		return nil
	}
	files, err := l.rotated()
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	drop := files
	if l.cfg.RotateMaxFiles > 0 {
		drop = files[:max(0, len(files)-l.cfg.RotateMaxFiles)]
	}
	for _, f := range drop {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("log file: %w", err)
		}
	}
	return nil
}

// Write writes one formatted record, after rotating if it is time to.
func (l *logFile) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	full := l.cfg.RotateBytes > 0 && l.written >= int64(l.cfg.RotateBytes)
	if full || l.now().Sub(l.created) >= l.cfg.RotateDuration {
		_ = l.f.Close()
		l.f = nil
		if err := l.prune(); err != nil {
			return 0, err
		}
		if err := l.openNew(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.written += int64(n)
	return n, err
}

// Close closes the current file; later writes fail.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
