package fhirpath

// Existence functions (http://hl7.org/fhirpath/N1/#existence).

func fnEmpty(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	return append(out, boolItem(len(in) == 0)), nil
}

func fnExists(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	if len(call.args) == 0 {
		return append(out, boolItem(len(in) > 0)), nil
	}
	found := false
	err := c.each(call.args[0], in, func(_ int, v, known bool) bool {
		found = v && known
		return !found
	})
	return append(out, boolItem(found)), err
}

func fnAll(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	all := true
	err := c.each(call.args[0], in, func(_ int, v, known bool) bool {
		all = v && known
		return all
	})
	return append(out, boolItem(all)), err
}

// each evaluates the lambda criteria for each input item and hands the
// result's truth to f until f returns false.
func (c *evalCtx) each(criteria node, in []item, f func(i int, v, known bool) bool) error {
	buf := c.get()
	defer func() { c.put(buf) }()
	for i := range in {
		var err error
		buf, err = c.withThis(criteria, in, i, buf[:0])
		if err != nil {
			return err
		}
		v, known, err := truth(buf)
		if err != nil {
			return err
		}
		if !f(i, v, known) {
			return nil
		}
	}
	return nil
}

// boolAggregate builds allTrue, anyTrue, allFalse and anyFalse.
func boolAggregate(all, want bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		res := all
		for _, it := range in {
			v, _, _ := it.system()
			b, ok := v.(bool)
			if !ok {
				return out, evalError("expected booleans, found %s", typeLabel(it))
			}
			if all && b != want {
				res = false
			}
			if !all && b == want {
				res = true
			}
		}
		return append(out, boolItem(res)), nil
	}
}

func fnSubsetOf(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	other, err := c.evalArg(call, 0)
	defer c.put(other)
	if err != nil {
		return out, err
	}
	return append(out, boolItem(subset(in, other))), nil
}

func fnSupersetOf(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	other, err := c.evalArg(call, 0)
	defer c.put(other)
	if err != nil {
		return out, err
	}
	return append(out, boolItem(subset(other, in))), nil
}

func subset(a, b []item) bool {
	for _, it := range a {
		if !containsItem(b, it) {
			return false
		}
	}
	return true
}

func fnCount(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	return append(out, intItem(int64(len(in)))), nil
}

func fnDistinct(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	return union(out, in, nil), nil
}

func fnIsDistinct(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	for i := range in {
		if containsItem(in[:i], in[i]) {
			return append(out, boolItem(false)), nil
		}
	}
	return append(out, boolItem(true)), nil
}

func fnNot(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	v, known, err := truth(in)
	if err != nil || !known {
		return out, err
	}
	return append(out, boolItem(!v)), nil
}
