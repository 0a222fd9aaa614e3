package child

import "strings"

// shellArgs is how a shell command runs as the child: under /bin/sh -c, and,
// when the command is one simple command, as "exec COMMAND", so that the
// program replaces the shell. Otherwise the shell stays the child's parent:
// Debian's dash does not exec the last command itself, and the signals
// sent to the process group would reach the shell too, which dies of a
// SIGHUP or SIGINT that the program handles.
func shellArgs(cmd string) []string {
	if simpleCommand(cmd) {
		cmd = "exec " + cmd
	}
	return []string{"/bin/sh", "-c", cmd}
}

// reserved are the shell's words that start a compound command, and its
// builtins that are no program to exec.
var reserved = map[string]bool{"if": true, "then": true, "else": true, "elif": true, "fi": true, "for": true,
	"while": true, "until": true, "do": true, "done": true, "case": true, "esac": true, "{": true, "}": true,
	"!": true, "exec": true, "function": true,
	"exit": true, "return": true, "break": true, "continue": true, ":": true, ".": true, "source": true,
	"eval": true, "export": true, "readonly": true, "local": true, "set": true, "unset": true, "shift": true,
	"times": true, "trap": true, "cd": true, "wait": true, "read": true, "alias": true, "umask": true, "ulimit": true}

// simpleCommand reports, conservatively, whether cmd is one command with
// its arguments (quotes, expansions and redirections allowed) that "exec"
// can prefix: no list or pipeline operator, subshell or command
// substitution outside single quotes, no leading VAR=value, and no reserved
// word first.
func simpleCommand(cmd string) bool {
	cmd = strings.TrimSpace(cmd)
	if cmd == "" {
		return false
	}
	first := cmd
	if i := strings.IndexAny(cmd, " \t"); i >= 0 {
		first = cmd[:i]
	}
	if reserved[first] || isAssignment(first) {
		return false
	}
	var quote byte // ', " or 0
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
		case c == '\\':
			i++ // the next character is literal
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '`', c == '$' && i+1 < len(cmd) && cmd[i+1] == '(':
				return false
			}
		case c == '\'' || c == '"':
			quote = c
		case (c == '&' || c == '|') && i > 0 && (cmd[i-1] == '>' || cmd[i-1] == '<'):
			// 2>&1, <&3, >|: redirections, not operators
		case strings.IndexByte(";&|()`\n", c) >= 0, c == '$' && i+1 < len(cmd) && cmd[i+1] == '(':
			return false
		}
	}
	return quote == 0
}

// isAssignment reports whether w is NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, c := range name {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
