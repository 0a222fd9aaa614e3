package template

import (
	"os"

	"github.com/drcon/drcon/template/dep"
)

// memStore is a Store in memory: what the tests know about Consul.
type memStore map[dep.Dependency]any

func (m memStore) Recall(d dep.Dependency) (any, bool) {
	v, ok := m[d]
	return v, ok
}

func writeFile(t interface {
	Helper()
	Fatal(...any)
}, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
