package fhirpath

import "math"

// arithmetic applies + - & * / div mod to single items.
func arithmetic(out []item, op binOp, l, r []item) ([]item, error) {
	if op == opConcat {
		return concat(out, l, r)
	}
	if len(l) == 0 || len(r) == 0 {
		return out, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return out, evalError("arithmetic needs single items, found %d and %d", len(l), len(r))
	}
	av, _, aok := l[0].system()
	bv, _, bok := r[0].system()
	if !aok || !bok {
		return out, evalError("arithmetic on %s and %s", typeLabel(l[0]), typeLabel(r[0]))
	}
	res, ok, err := arith(op, av, bv)
	if err != nil || !ok {
		return out, err
	}
	return append(out, res), nil
}

// arith computes a op b; ok is false for an empty result (division by zero).
func arith(op binOp, a, b any) (item, bool, error) {
	switch x := a.(type) {
	case int64:
		if y, ok := b.(int64); ok {
			return intArith(op, x, y)
		}
		if y, ok := b.(decimal); ok {
			return decArith(op, decimalFromInt(x), y)
		}
		if y, ok := b.(quantity); ok && op == opMul {
			return sysItem(quantity{value: decimalFromInt(x).mul(y.value), unit: y.unit}, sysQuantity), true, nil
		}
	case decimal:
		if y, ok := numeric(b); ok {
			return decArith(op, x, y)
		}
		if y, ok := b.(quantity); ok && op == opMul {
			return sysItem(quantity{value: x.mul(y.value), unit: y.unit}, sysQuantity), true, nil
		}
	case string:
		if y, ok := b.(string); ok && op == opAdd {
			if len(x)+len(y) > maxString {
				return item{}, false, evalError("string result longer than %d bytes", maxString)
			}
			return stringItem(x + y), true, nil
		}
	case temporal:
		if y, ok := b.(quantity); ok && (op == opAdd || op == opSub) {
			sign := 1
			if op == opSub {
				sign = -1
			}
			t, err := x.addDuration(y, sign)
			if err != nil {
				return item{}, false, err
			}
			return sysItem(t, t.typ()), true, nil
		}
	case quantity:
		return quantityArith(op, x, b)
	}
	return item{}, false, evalError("operator not defined for these operand types")
}

func intArith(op binOp, x, y int64) (item, bool, error) {
	var r int64
	switch op {
	case opAdd:
		r = x + y
		if (r > x) != (y > 0) {
			return item{}, false, evalError("integer overflow")
		}
	case opSub:
		r = x - y
		if (r < x) != (y > 0) {
			return item{}, false, evalError("integer overflow")
		}
	case opMul:
		if x != 0 && y != 0 {
			r = x * y
			if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
				return item{}, false, evalError("integer overflow")
			}
		}
	case opDiv:
		return decArith(op, decimalFromInt(x), decimalFromInt(y))
	case opIntDiv, opMod:
		if y == 0 {
			return item{}, false, nil
		}
		if x == math.MinInt64 && y == -1 {
			return item{}, false, evalError("integer overflow")
		}
		if op == opIntDiv {
			r = x / y
		} else {
			r = x % y
		}
	default:
		return item{}, false, evalError("operator not defined for integers")
	}
	return intItem(r), true, nil
}

func decArith(op binOp, x, y decimal) (item, bool, error) {
	switch op {
	case opAdd:
		return sysItem(x.add(y), sysDecimal), true, nil
	case opSub:
		return sysItem(x.sub(y), sysDecimal), true, nil
	case opMul:
		return sysItem(x.mul(y), sysDecimal), true, nil
	case opDiv:
		q, ok := x.quo(y)
		return sysItem(q, sysDecimal), ok, nil
	case opIntDiv:
		q, ok := x.quo(y)
		if !ok {
			return item{}, false, nil
		}
		i, ok := q.round(0, roundTruncate).int64()
		if !ok {
			return item{}, false, evalError("integer overflow")
		}
		return intItem(i), true, nil
	case opMod:
		q, ok := x.quo(y)
		if !ok {
			return item{}, false, nil
		}
		return sysItem(x.sub(y.mul(q.round(0, roundTruncate))), sysDecimal), true, nil
	}
	return item{}, false, evalError("operator not defined for decimals")
}

func quantityArith(op binOp, x quantity, b any) (item, bool, error) {
	q := func(v decimal, unit string) (item, bool, error) {
		return sysItem(quantity{value: v, unit: unit}, sysQuantity), true, nil
	}
	if n, ok := numeric(b); ok {
		switch op {
		case opMul:
			return q(x.value.mul(n), x.unit)
		case opDiv:
			v, ok := x.value.quo(n)
			if !ok {
				return item{}, false, nil
			}
			return q(v, x.unit)
		}
		return item{}, false, evalError("operator not defined for a quantity and a number")
	}
	y, ok := b.(quantity)
	if !ok {
		return item{}, false, evalError("operator not defined for a quantity and this type")
	}
	switch op {
	case opAdd, opSub:
		yc, ok := y.convertTo(x.unit)
		if !ok {
			return item{}, false, evalError("cannot add %q and %q", x.unit, y.unit)
		}
		if op == opAdd {
			return q(x.value.add(yc.value), x.unit)
		}
		return q(x.value.sub(yc.value), x.unit)
	case opMul:
		return q(x.value.mul(y.value), productUnit(x.unit, y.unit))
	case opDiv:
		v, ok := x.value.quo(y.value)
		if !ok {
			return item{}, false, nil
		}
		return q(v, quotientUnit(x.unit, y.unit))
	}
	return item{}, false, evalError("operator not defined for quantities")
}

// concat is `&`: string concatenation where empty counts as ”.
func concat(out, l, r []item) ([]item, error) {
	var s [2]string
	for i, col := range [2][]item{l, r} {
		switch len(col) {
		case 0:
		case 1:
			v, _, ok := col[0].system()
			str, isStr := v.(string)
			if !ok || !isStr {
				return out, evalError("'&' needs strings")
			}
			s[i] = str
		default:
			return out, evalError("'&' needs single strings, found %d items", len(col))
		}
	}
	return checkString(out, s[0]+s[1])
}
