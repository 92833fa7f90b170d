package fhirpath

// Helpers that functions use to read their input and arguments.

// evalArg evaluates argument i against $this into a scratch buffer that
// the caller gives back with c.put.
func (c *evalCtx) evalArg(call *callNode, i int) ([]item, error) {
	return call.args[i].eval(c, c.this, c.get())
}

// singleArg evaluates argument i to at most one System value; present is
// false when it is empty.
func (c *evalCtx) singleArg(call *callNode, i int) (v any, present bool, err error) {
	b, err := c.evalArg(call, i)
	defer c.put(b)
	if err != nil || len(b) == 0 {
		return nil, false, err
	}
	if len(b) > 1 {
		return nil, false, evalError("argument %d must be a single value, found %d", i+1, len(b))
	}
	v, _, ok := b[0].system()
	if !ok {
		return nil, false, evalError("argument %d must be a primitive value", i+1)
	}
	return v, true, nil
}

func (c *evalCtx) stringArg(call *callNode, i int) (string, bool, error) {
	v, ok, err := c.singleArg(call, i)
	if err != nil || !ok {
		return "", false, err
	}
	s, isStr := v.(string)
	if !isStr {
		return "", false, evalError("argument %d must be a string", i+1)
	}
	return s, true, nil
}

func (c *evalCtx) intArg(call *callNode, i int) (int64, bool, error) {
	v, ok, err := c.singleArg(call, i)
	if err != nil || !ok {
		return 0, false, err
	}
	n, isInt := v.(int64)
	if !isInt {
		return 0, false, evalError("argument %d must be an integer", i+1)
	}
	return n, true, nil
}

// integerArg reads a collection holding one Integer.
func integerArg(col []item) (int64, bool) {
	if len(col) != 1 {
		return 0, false
	}
	v, _, _ := col[0].system()
	n, ok := v.(int64)
	return n, ok
}

// singleInput returns the one input item; ok is false for empty input and
// several items are an error.
func singleInput(in []item, fn string) (item, bool, error) {
	switch len(in) {
	case 0:
		return item{}, false, nil
	case 1:
		return in[0], true, nil
	}
	return item{}, false, evalError("%s() needs a single input item, found %d", fn, len(in))
}

// stringInput returns the one input item as a string. A primitive with
// only extensions counts as empty; anything but a string is an error.
func stringInput(in []item, fn string) (string, bool, error) {
	it, ok, err := singleInput(in, fn)
	if err != nil || !ok || it.v == nil {
		return "", false, err
	}
	v, _, ok := it.system()
	s, isStr := v.(string)
	if !ok || !isStr {
		return "", false, evalError("%s() needs a string input, found %s", fn, typeLabel(it))
	}
	return s, true, nil
}
