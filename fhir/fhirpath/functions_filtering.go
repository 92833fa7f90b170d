package fhirpath

// Filtering, projection and type functions
// (http://hl7.org/fhirpath/N1/#filtering-and-projection, #types).

// maxRepeat bounds repeat(), whose results FHIR data keeps small but an
// expression such as 1.repeat($this + 1) would not. Each new item is
// checked against those before it, so the bound also bounds the time.
const maxRepeat = 10000

// maxDescendants bounds descendants(): a large Bundle has a few hundred
// thousand nodes.
const maxDescendants = 1 << 20

// maxString bounds strings an expression builds, so that nested replace()
// calls cannot multiply one into gigabytes.
const maxString = 1 << 20

func checkString(out []item, s string) ([]item, error) {
	if len(s) > maxString {
		return out, evalError("string result longer than %d bytes", maxString)
	}
	return append(out, stringItem(s)), nil
}

func fnWhere(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	err := c.each(call.args[0], in, func(i int, v, known bool) bool {
		if v && known {
			out = append(out, in[i])
		}
		return true
	})
	return out, err
}

func fnSelect(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	for i := range in {
		var err error
		if out, err = c.withThis(call.args[0], in, i, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// fnRepeat applies the projection to the input, then to what it returned,
// and so on, keeping each new item once.
func fnRepeat(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	start := len(out)
	queue := append(c.get(), in...)
	next := c.get()
	defer func() { c.put(queue); c.put(next) }()
	for len(queue) > 0 {
		next = next[:0]
		for i := range queue {
			var err error
			if next, err = c.withThis(call.args[0], queue, i, next); err != nil {
				return out, err
			}
		}
		queue = queue[:0]
		for _, it := range next {
			if !containsItem(out[start:], it) {
				out = append(out, it)
				queue = append(queue, it)
			}
		}
		if len(out)-start > maxRepeat {
			return out, evalError("repeat() produced more than %d items", maxRepeat)
		}
	}
	return out, nil
}

func fnOfType(_ *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	return appendAs(out, in, call.typ), nil
}

func fnAs(_ *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	return appendAs(out, in, call.typ), nil
}

func fnIs(_ *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	it, ok, err := singleInput(in, "is")
	if err != nil || !ok {
		return out, err
	}
	return append(out, boolItem(isOf(it, call.typ))), nil
}

func fnType(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	for _, it := range in {
		if ti, ok := typeInfoItem(it); ok {
			out = append(out, ti)
		}
	}
	return out, nil
}
