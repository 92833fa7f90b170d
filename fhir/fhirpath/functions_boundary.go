package fhirpath

import "math/big"

// Precision functions (FHIRPath 2.0 lowBoundary, highBoundary, precision,
// comparable), used by FHIR invariants on periods and ranges.

// maxBoundaryDigits is the largest decimal precision boundaries accept.
const maxBoundaryDigits = 28

func boundary(high bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
		it, ok, err := singleInput(in, "boundary")
		if err != nil || !ok {
			return out, err
		}
		digits, hasDigits := int64(-1), false
		if len(call.args) == 1 {
			if digits, hasDigits, err = c.intArg(call, 0); err != nil || !hasDigits {
				return out, err
			}
		}
		v, _, _ := it.system()
		switch x := v.(type) {
		case int64:
			if d, ok := decimalBoundary(decimalFromInt(x), digits, hasDigits, high); ok {
				out = append(out, sysItem(d, sysDecimal))
			}
		case decimal:
			if d, ok := decimalBoundary(x, digits, hasDigits, high); ok {
				out = append(out, sysItem(d, sysDecimal))
			}
		case quantity:
			if d, ok := decimalBoundary(x.value, digits, hasDigits, high); ok {
				out = append(out, sysItem(quantity{value: d, unit: x.unit}, sysQuantity))
			}
		case temporal:
			if !hasDigits {
				digits = map[temporalKind]int64{kindDate: 8, kindDateTime: 17, kindTimeOfDay: 9}[x.kind]
			}
			if t, ok := x.boundary(int(digits), high); ok {
				out = append(out, sysItem(t, t.typ()))
			}
		default:
			return out, evalError("boundaries need a number, quantity, date or time")
		}
		return out, nil
	}
}

// decimalBoundary is the lowest or highest value d stands for, given that
// it is known to its last digit, written with digits decimal places.
func decimalBoundary(d decimal, digits int64, hasDigits, high bool) (decimal, bool) {
	if !hasDigits {
		digits = 8
	}
	if digits < 0 || digits > maxBoundaryDigits {
		return decimal{}, false
	}
	// Half a unit of the last digit either side: 1.587 spans
	// [1.5865, 1.5875].
	half := decimal{u: big.NewInt(5), scale: d.scale + 1}
	b := d.sub(half)
	mode := roundFloor
	if high {
		b, mode = d.add(half), roundCeiling
	}
	p := int32(digits)
	// A value smaller than the precision asked for is zero at it.
	if p < d.scale && d.round(p, roundTruncate).sign() == 0 {
		return decimal{u: new(big.Int), scale: p}, true
	}
	return b.round(p, mode), true
}

func fnPrecision(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	it, ok, err := singleInput(in, "precision")
	if err != nil || !ok {
		return out, err
	}
	v, _, _ := it.system()
	switch x := v.(type) {
	case decimal:
		return append(out, intItem(int64(x.scale))), nil
	case int64:
		return append(out, intItem(0)), nil
	case temporal:
		return append(out, intItem(int64(x.digits()))), nil
	}
	return out, evalError("precision() needs a decimal, date or time")
}

func fnComparable(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	it, ok, err := singleInput(in, "comparable")
	if err != nil || !ok {
		return out, err
	}
	v, ok, err := c.singleArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	a, _, _ := it.system()
	x, ok1 := a.(quantity)
	y, ok2 := v.(quantity)
	if !ok1 || !ok2 {
		return out, evalError("comparable() needs quantities")
	}
	_, known := compareQuantity(x, y)
	return append(out, boolItem(known)), nil
}
