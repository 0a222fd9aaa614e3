package render

import (
	"fmt"
	"os/user"
	"strconv"
)

// lookupUser resolves a user name or numeric id; "" is -1 (keep).
func lookupUser(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("user %q: %w", name, err)
	}
	return strconv.Atoi(u.Uid)
}

// lookupGroup resolves a group name or numeric id; "" is -1 (keep).
func lookupGroup(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("group %q: %w", name, err)
	}
	return strconv.Atoi(g.Gid)
}
