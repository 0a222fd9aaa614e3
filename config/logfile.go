package config

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// LogFile writes the log to files as well, consul-template's log_file {}:
// a new file at each start and rotation, named NAME-UNIXNANO.EXT after the
// path's file name.
type LogFile struct {
	Path string // "" off; a path ending in "/" is a directory, where files are named drcon-*.log
	// RotateBytes starts a new file once this many bytes were written; 0:
	// no limit.
	RotateBytes int
	// RotateDuration starts a new file when the current one is this old;
	// default 24h.
	RotateDuration time.Duration
	// RotateMaxFiles is how many earlier files are kept at a rotation: 0
	// keeps all, -1 none.
	RotateMaxFiles int
}

const defaultLogRotateDuration = 24 * time.Hour

type rawLogFile struct {
	Path              *hcl.Attribute `hcl:"path,optional"`
	LogRotateBytes    *hcl.Attribute `hcl:"log_rotate_bytes,optional"`
	LogRotateDuration *hcl.Attribute `hcl:"log_rotate_duration,optional"`
	LogRotateMaxFiles *hcl.Attribute `hcl:"log_rotate_max_files,optional"`
}

// LogFileOverrides are consul-template's -log-file and -log-rotate-* flags.
type LogFileOverrides struct {
	Path, RotateBytes, RotateDuration, RotateMaxFiles string
}

// logFile reads log_file {} and its flags.
func (l *loader) logFile(b *rawLogFile) LogFile {
	f := LogFile{RotateDuration: defaultLogRotateDuration}
	if b != nil {
		l.str(b.Path, &f.Path)
		l.integer(b.LogRotateBytes, &f.RotateBytes, 0, 1<<40)
		if l.duration(b.LogRotateDuration, &f.RotateDuration) && f.RotateDuration == 0 {
			l.errorf(b.LogRotateDuration, "Invalid log_rotate_duration", "log_rotate_duration must be more than 0.")
		}
		l.integer(b.LogRotateMaxFiles, &f.RotateMaxFiles, -1, 1<<20)
	}
	o := l.o.LogFile
	if o.Path != "" {
		f.Path = o.Path
	}
	for _, n := range []struct {
		flag, value string
		dst         *int
		min         int
	}{{"-log-rotate-bytes", o.RotateBytes, &f.RotateBytes, 0}, {"-log-rotate-max-files", o.RotateMaxFiles, &f.RotateMaxFiles, -1}} {
		if n.value == "" {
			continue
		}
		v, err := strconv.Atoi(n.value)
		if err != nil || v < n.min {
			l.flagError(n.flag, fmt.Errorf("%q is not a whole number from %d", n.value, n.min))
			continue
		}
		*n.dst = v
	}
	l.flagDuration("-log-rotate-duration", o.RotateDuration, &f.RotateDuration, true)
	return f
}
