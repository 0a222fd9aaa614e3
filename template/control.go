package template

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// executeTemplate runs a defined template, with the given dot or nil, and
// returns its output. It runs on this execution's clone, so the functions it
// calls record into this execution.
func (x *execution) executeTemplate(name string, data ...any) (string, error) {
	var dot any
	switch len(data) {
	case 0:
	case 1:
		dot = data[0]
	default:
		return "", fmt.Errorf("executeTemplate: wrong number of arguments, expected 1 or 2, but got %d", len(data)+1)
	}
	if x.depth >= maxNesting {
		return "", &nestedError{fmt.Errorf("executeTemplate: %q nested more than %d deep", name, maxNesting)}
	}
	x.depth++
	defer func() { x.depth-- }()
	var b strings.Builder
	if err := x.tmpl.ExecuteTemplate(&b, name, dot); err != nil {
		// text/template prefixes the error of every call it passes up with
		// the caller's position. Through N nested calls the message, and
		// the work of building it, would grow with N squared (gigabytes at
		// 10,000 levels); pass up the innermost call's error instead.
		var inner *nestedError
		if errors.As(err, &inner) {
			return "", inner
		}
		return "", &nestedError{err}
	}
	return b.String(), nil
}

// nestedError is the error of an executeTemplate call, as the innermost
// failing call saw it.
type nestedError struct{ err error }

func (e *nestedError) Error() string { return e.err.Error() }
func (e *nestedError) Unwrap() error { return e.err }

// scratchpad is the scratch function: one Scratch per execution.
func (x *execution) scratchpad() *Scratch {
	if x.scratch == nil {
		x.scratch = &Scratch{}
	}
	return x.scratch
}

// loop returns a channel of the integers in [0, n) or [a, b), as
// consul-template's (so ranging over it, printing it and len of it behave
// the same). Its sender stops when the execution ends, so a range that
// breaks early leaks no goroutine.
func (x *execution) loop(args ...any) (<-chan int64, error) {
	var from, to any
	switch len(args) {
	case 1:
		from, to = 0, args[0]
	case 2:
		from, to = args[0], args[1]
	default:
		return nil, fmt.Errorf("loop: wrong number of arguments, expected 1 or 2, but got %d", len(args))
	}
	start, err := loopBound(from)
	if err != nil {
		return nil, err
	}
	stop, err := loopBound(to)
	if err != nil {
		return nil, err
	}
	if x.done == nil {
		x.done = make(chan struct{})
	}
	done := x.done
	ch := make(chan int64)
	go func() {
		defer close(ch)
		for i := start; i < stop; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}()
	return ch, nil
}

// loopBound converts a bound of loop: any integer, or a string parsed as one.
func loopBound(v any) (int64, error) {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return int64(r.Uint()), nil
	case reflect.String:
		return parseInt(r.String())
	}
	return 0, fmt.Errorf("loop: bad argument type: %T", v)
}
