package agent

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestLoggingFollowsSet: a logger derived before a reload (as jobs hold
// theirs) takes the new level and format, and keeps its attributes once.
func TestLoggingFollowsSet(t *testing.T) {
	var out bytes.Buffer
	l := NewLogging(&out, "info", "text")
	job := l.Logger().With("job", "web")

	job.Debug("hidden")
	job.Info("first")
	l.Set("debug", "json")
	job.Debug("second")
	l.Set("warn", "json")
	job.Info("hidden too")
	job.Warn("third")

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[0], "msg=first") || strings.Count(lines[0], "job=web") != 1 {
		t.Errorf("text line %q: want msg=first and job=web once", lines[0])
	}
	for i, want := range map[int]string{1: "second", 2: "third"} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatalf("line %d is not JSON after the switch: %q", i, lines[i])
		}
		if rec["msg"] != want || rec["job"] != "web" || strings.Count(lines[i], `"job"`) != 1 {
			t.Errorf("line %d = %q, want msg %q and job once", i, lines[i], want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{"debug": "DEBUG", "TRACE": "DEBUG", "info": "INFO", "": "INFO",
		"warn": "WARN", "warning": "WARN", "err": "ERROR", "error": "ERROR"} {
		if got := ParseLevel(in).String(); got != want {
			t.Errorf("ParseLevel(%q) = %s, want %s", in, got, want)
		}
	}
}
