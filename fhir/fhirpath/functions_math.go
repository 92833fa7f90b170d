package fhirpath

import "math"

// Math functions (http://hl7.org/fhirpath/N1/#math) and the aggregates
// sum, min, max and avg.

// numberInput returns the single input as an Integer (isInt) or Decimal.
func numberInput(in []item, fn string) (d decimal, isInt, ok bool, err error) {
	it, ok, err := singleInput(in, fn)
	if err != nil || !ok {
		return decimal{}, false, false, err
	}
	v, _, _ := it.system()
	switch x := v.(type) {
	case int64:
		return decimalFromInt(x), true, true, nil
	case decimal:
		return x, false, true, nil
	}
	return decimal{}, false, false, evalError("%s() needs a number, found %s", fn, typeLabel(it))
}

func fnAbs(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	it, ok, err := singleInput(in, "abs")
	if err != nil || !ok {
		return out, err
	}
	v, _, _ := it.system()
	switch x := v.(type) {
	case int64:
		if x == math.MinInt64 {
			return out, evalError("integer overflow")
		}
		return append(out, intItem(max(x, -x))), nil
	case decimal:
		return append(out, sysItem(x.abs(), sysDecimal)), nil
	case quantity:
		return append(out, sysItem(quantity{value: x.value.abs(), unit: x.unit}, sysQuantity)), nil
	}
	return out, evalError("abs() needs a number or quantity")
}

// roundTo builds ceiling, floor and truncate, which return Integers.
func roundTo(name string, mode roundMode) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		d, _, ok, err := numberInput(in, name)
		if err != nil || !ok {
			return out, err
		}
		i, ok := d.round(0, mode).int64()
		if !ok {
			return out, evalError("integer overflow")
		}
		return append(out, intItem(i)), nil
	}
}

func fnRound(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	d, _, ok, err := numberInput(in, "round")
	if err != nil || !ok {
		return out, err
	}
	var digits int64
	if len(call.args) == 1 {
		if digits, ok, err = c.intArg(call, 0); err != nil || !ok {
			return out, err
		}
		if digits < 0 || digits > maxDecimalScale {
			return out, evalError("round() precision must be between 0 and %d", maxDecimalScale)
		}
	}
	return append(out, sysItem(d.round(int32(digits), roundHalfUp), sysDecimal)), nil
}

func mathExp(x float64) float64  { return math.Exp(x) }
func mathLog(x float64) float64  { return math.Log(x) }
func mathSqrt(x float64) float64 { return math.Sqrt(x) }

// floatFunc builds exp, ln and sqrt; results that are not real numbers
// (the root of -1) are empty.
func floatFunc(name string, f func(float64) float64) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		d, _, ok, err := numberInput(in, name)
		if err != nil || !ok {
			return out, err
		}
		r, ok := decimalFromFloat(f(d.float()))
		if !ok {
			return out, nil
		}
		return append(out, sysItem(r, sysDecimal)), nil
	}
}

func fnLog(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	d, _, ok, err := numberInput(in, "log")
	if err != nil || !ok {
		return out, err
	}
	v, ok, err := c.singleArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	base, ok := numeric(v)
	if !ok {
		return out, evalError("log() base must be a number")
	}
	r, ok := decimalFromFloat(math.Log(d.float()) / math.Log(base.float()))
	if !ok {
		return out, nil
	}
	return append(out, sysItem(r, sysDecimal)), nil
}

func fnPower(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	d, isInt, ok, err := numberInput(in, "power")
	if err != nil || !ok {
		return out, err
	}
	v, ok, err := c.singleArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	e, ok := numeric(v)
	if !ok {
		return out, evalError("power() exponent must be a number")
	}
	f := math.Pow(d.float(), e.float())
	if _, expInt := v.(int64); isInt && expInt && e.sign() >= 0 {
		if f > math.MaxInt64 || f < math.MinInt64 {
			return out, evalError("integer overflow")
		}
		return append(out, intItem(int64(f))), nil
	}
	r, ok := decimalFromFloat(f)
	if !ok {
		return out, nil
	}
	return append(out, sysItem(r, sysDecimal)), nil
}

func fnSum(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	if len(in) == 0 {
		return out, nil
	}
	acc, ok := firstSystem(in)
	if !ok {
		return out, evalError("sum() needs numbers or quantities")
	}
	for _, it := range in[1:] {
		v, _, _ := it.system()
		res, ok, err := arith(opAdd, acc, v)
		if err != nil || !ok {
			return out, err
		}
		acc = res.v
	}
	t := sysDecimal
	switch acc.(type) {
	case int64:
		t = sysInteger
	case quantity:
		t = sysQuantity
	}
	return append(out, sysItem(acc, t)), nil
}

func firstSystem(in []item) (any, bool) {
	v, _, ok := in[0].system()
	return v, ok
}

// extreme builds min (dir -1) and max (dir 1).
func extreme(dir int) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		if len(in) == 0 {
			return out, nil
		}
		best := in[0]
		for _, it := range in[1:] {
			c, known, err := compareItems(it, best)
			if err != nil {
				return out, err
			}
			if !known {
				return out, nil
			}
			if c*dir > 0 {
				best = it
			}
		}
		return append(out, best), nil
	}
}

func fnAvg(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	if len(in) == 0 {
		return out, nil
	}
	sum, err := fnSum(c, in, call, c.get())
	defer c.put(sum)
	if err != nil || len(sum) == 0 {
		return out, err
	}
	res, ok, err := arith(opDiv, sum[0].v, int64(len(in)))
	if err != nil || !ok {
		return out, err
	}
	return append(out, res), nil
}
