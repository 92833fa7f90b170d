package fhirpath

// Subsetting and combining functions
// (http://hl7.org/fhirpath/N1/#subsetting, #combining).

func fnSingle(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	it, ok, err := singleInput(in, "single")
	if err != nil || !ok {
		return out, err
	}
	return append(out, it), nil
}

func fnFirst(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	if len(in) == 0 {
		return out, nil
	}
	return append(out, in[0]), nil
}

func fnLast(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	if len(in) == 0 {
		return out, nil
	}
	return append(out, in[len(in)-1]), nil
}

func fnTail(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	if len(in) == 0 {
		return out, nil
	}
	return append(out, in[1:]...), nil
}

func fnSkip(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	n, ok, err := c.intArg(call, 0)
	if err != nil || !ok {
		return out, err
	}
	if n < 0 {
		n = 0
	}
	if n >= int64(len(in)) {
		return out, nil
	}
	return append(out, in[n:]...), nil
}

func fnTake(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	n, ok, err := c.intArg(call, 0)
	if err != nil || !ok || n <= 0 {
		return out, err
	}
	if n > int64(len(in)) {
		n = int64(len(in))
	}
	return append(out, in[:n]...), nil
}

func fnIntersect(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	other, err := c.evalArg(call, 0)
	defer c.put(other)
	if err != nil {
		return out, err
	}
	start := len(out)
	for _, it := range in {
		if containsItem(other, it) && !containsItem(out[start:], it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnExclude(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	other, err := c.evalArg(call, 0)
	defer c.put(other)
	if err != nil {
		return out, err
	}
	for _, it := range in {
		if !containsItem(other, it) {
			out = append(out, it)
		}
	}
	return out, nil
}

func fnUnion(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	other, err := c.evalArg(call, 0)
	defer c.put(other)
	if err != nil {
		return out, err
	}
	return union(out, in, other), nil
}

func fnCombine(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	out = append(out, in...)
	return call.args[0].eval(c, c.this, out)
}
