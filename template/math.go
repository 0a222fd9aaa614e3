package template

import (
	"errors"
	"fmt"
	"reflect"
)

// Math. Every function takes (b, a) and computes a OP b, so that pipes read
// naturally: {{ 10 | subtract 3 }} is 7. Operands may be any integer or
// float kinds, mixed as consul-template mixes them: a float makes the result
// float64; two unsigned make uint64; otherwise int64.

// numKind is how an operand takes part in arithmetic.
type numKind int

const (
	signed numKind = iota
	unsigned
	float
)

// number is an operand, read once through reflection.
type number struct {
	kind numKind
	i    int64
	u    uint64
	f    float64
}

func toNumber(fn string, v any) (number, error) {
	r := reflect.ValueOf(v)
	switch r.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return number{kind: signed, i: r.Int()}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return number{kind: unsigned, u: r.Uint()}, nil
	case reflect.Float32, reflect.Float64:
		return number{kind: float, f: r.Float()}, nil
	}
	return number{}, fmt.Errorf("%s: unknown type for %v (%T)", fn, v, v)
}

func (n number) asFloat() float64 {
	switch n.kind {
	case signed:
		return float64(n.i)
	case unsigned:
		return float64(n.u)
	}
	return n.f
}

func (n number) asInt() int64 {
	if n.kind == unsigned {
		return int64(n.u)
	}
	return n.i
}

// value is the operand as the Go value a result carries.
func (n number) value() any {
	switch n.kind {
	case signed:
		return n.i
	case unsigned:
		return n.u
	}
	return n.f
}

// operands reads a (checked first, as in consul-template) and b, and the
// kind of arithmetic they call for.
func operands(fn string, b, a any) (x, y number, k numKind, err error) {
	if x, err = toNumber(fn, a); err != nil {
		return
	}
	if y, err = toNumber(fn, b); err != nil {
		return
	}
	switch {
	case x.kind == float || y.kind == float:
		k = float
	case x.kind == unsigned && y.kind == unsigned:
		k = unsigned
	default:
		k = signed
	}
	return x, y, k, nil
}

var errDivZero = errors.New("division by zero")

// arithmetic applies an operator in the kind the operands call for.
func arithmetic(fn string, b, a any, opI func(x, y int64) (int64, error),
	opU func(x, y uint64) (uint64, error), opF func(x, y float64) (float64, error)) (any, error) {
	x, y, k, err := operands(fn, b, a)
	if err != nil {
		return nil, err
	}
	var r any
	switch k {
	case float:
		if opF == nil {
			bad := a
			if x.kind != float {
				bad = b
			}
			return nil, fmt.Errorf("%s: unknown type for %v (%T)", fn, bad, bad)
		}
		r, err = opF(x.asFloat(), y.asFloat())
	case unsigned:
		r, err = opU(x.u, y.u)
	default:
		r, err = opI(x.asInt(), y.asInt())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return r, nil
}

func add(b, a any) (any, error) {
	return arithmetic("add", b, a,
		func(x, y int64) (int64, error) { return x + y, nil },
		func(x, y uint64) (uint64, error) { return x + y, nil },
		func(x, y float64) (float64, error) { return x + y, nil })
}

func subtract(b, a any) (any, error) {
	return arithmetic("subtract", b, a,
		func(x, y int64) (int64, error) { return x - y, nil },
		func(x, y uint64) (uint64, error) { return x - y, nil },
		func(x, y float64) (float64, error) { return x - y, nil })
}

func multiply(b, a any) (any, error) {
	return arithmetic("multiply", b, a,
		func(x, y int64) (int64, error) { return x * y, nil },
		func(x, y uint64) (uint64, error) { return x * y, nil },
		func(x, y float64) (float64, error) { return x * y, nil })
}

// divide divides integers as Go does (truncating); an integer division by
// zero is an error, a float one gives ±Inf or NaN.
func divide(b, a any) (any, error) {
	return arithmetic("divide", b, a,
		func(x, y int64) (int64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			return x / y, nil
		},
		func(x, y uint64) (uint64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			return x / y, nil
		},
		func(x, y float64) (float64, error) { return x / y, nil })
}

// modulo takes integers only.
func modulo(b, a any) (any, error) {
	return arithmetic("modulo", b, a,
		func(x, y int64) (int64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			return x % y, nil
		},
		func(x, y uint64) (uint64, error) {
			if y == 0 {
				return 0, errDivZero
			}
			return x % y, nil
		},
		nil)
}

// minimum and maximum compare in the kind the operands call for and return
// the chosen operand as it came (int64, uint64 or float64); on a tie, b.
func minimum(b, a any) (any, error) { return pick("minimum", b, a, -1) }

func maximum(b, a any) (any, error) { return pick("maximum", b, a, 1) }

func pick(fn string, b, a any, want int) (any, error) {
	x, y, k, err := operands(fn, b, a)
	if err != nil {
		return nil, err
	}
	var c int
	switch k {
	case float:
		c = compare(x.asFloat(), y.asFloat())
	case unsigned:
		c = compare(x.u, y.u)
	default:
		c = compare(x.asInt(), y.asInt())
	}
	if c == want {
		return x.value(), nil
	}
	return y.value(), nil
}

// compare is cmp.Compare without its NaN ordering: NaN compares as equal,
// so a NaN operand never wins, as with consul-template's < and >.
func compare[T int64 | uint64 | float64](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
