package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// maxFileSize bounds what Load reads from one file (a configuration file, a
// template source, file()): anything larger is a mistake, such as a path to a
// device or a log file, and reading it would only exhaust memory.
const maxFileSize = 16 << 20

// evalContext is what expressions in the file at path may use: env("NAME")
// and file("path"), the latter relative to the file's directory.
func evalContext(path string, getenv func(string) string) *hcl.EvalContext {
	dir := filepath.Dir(path)
	return &hcl.EvalContext{Functions: map[string]function.Function{
		"env": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "name", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.StringVal(getenv(args[0].AsString())), nil
			},
		}),
		"file": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "path", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				b, err := readFile(resolvePath(dir, args[0].AsString()))
				if err != nil {
					return cty.NilVal, err
				}
				if !utf8.Valid(b) {
					return cty.NilVal, fmt.Errorf("%s is not UTF-8 text", args[0].AsString())
				}
				return cty.StringVal(string(b)), nil
			},
		}),
	}}
}

// resolvePath makes a relative path relative to dir (a config file's
// directory) rather than to the process's working directory, so that a
// configuration means the same wherever drcon is started from.
func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// readFile reads a regular file of at most maxFileSize bytes. It checks the
// kind of file before opening it because opening a FIFO blocks.
func readFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxFileSize>>20)
	}
	return b, nil
}
