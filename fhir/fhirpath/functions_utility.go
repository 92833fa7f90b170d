package fhirpath

import "slices"

// Tree navigation, utility, aggregate and sort functions.

func fnChildren(c *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	for _, it := range in {
		out = c.model.children(it, out)
	}
	return out, nil
}

// fnDescendants returns children, their children and so on, level by
// level. JSON is a tree, so nothing repeats and no check for it is needed.
func fnDescendants(c *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
	start := len(out)
	for _, it := range in {
		out = c.model.children(it, out)
	}
	for i := start; i < len(out); i++ {
		if len(out)-start > maxDescendants {
			return out, evalError("descendants() found more than %d items", maxDescendants)
		}
		out = c.model.children(out[i], out)
	}
	return out, nil
}

func fnTrace(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	if c.cfg.trace == nil {
		return append(out, in...), nil
	}
	name, _, err := c.stringArg(call, 0)
	if err != nil {
		return out, err
	}
	traced := in
	if len(call.args) == 2 {
		buf := c.get()
		defer func() { c.put(buf) }()
		for i := range in {
			if buf, err = c.withThis(call.args[1], in, i, buf); err != nil {
				return out, err
			}
		}
		traced = buf
	}
	items := make([]Item, len(traced))
	for i, it := range traced {
		items[i] = it.public()
	}
	c.cfg.trace(name, items)
	return append(out, in...), nil
}

func fnNow(c *evalCtx, _ []item, _ *callNode, out []item) ([]item, error) {
	return append(out, sysItem(fromGoTime(c.clock(), kindDateTime), sysDateTime)), nil
}

func fnToday(c *evalCtx, _ []item, _ *callNode, out []item) ([]item, error) {
	return append(out, sysItem(fromGoTime(c.clock(), kindDate), sysDate)), nil
}

func fnTimeOfDay(c *evalCtx, _ []item, _ *callNode, out []item) ([]item, error) {
	return append(out, sysItem(fromGoTime(c.clock(), kindTimeOfDay), sysTime)), nil
}

// fnAggregate folds the input with $total holding the running result.
func fnAggregate(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	total := c.get()
	defer func() { c.put(total) }()
	if len(call.args) == 2 {
		var err error
		if total, err = call.args[1].eval(c, c.this, total); err != nil {
			return out, err
		}
	}
	saveTotal, saveAgg := c.total, c.inAgg
	defer func() { c.total, c.inAgg = saveTotal, saveAgg }()
	next := c.get()
	defer func() { c.put(next) }()
	for i := range in {
		c.total, c.inAgg = total, true
		var err error
		if next, err = c.withThis(call.args[0], in, i, next[:0]); err != nil {
			return out, err
		}
		total, next = next, total
	}
	return append(out, total...), nil
}

// fnSort orders the input by its own values or by the given keys; a key
// written with a leading minus sorts descending: sort(-family).
func fnSort(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	type keyed struct {
		it    item
		keys  []item
		empty []bool // the key is empty: sorts after every value
	}
	rows := make([]keyed, len(in))
	for i, it := range in {
		rows[i].it = it
		if len(call.args) == 0 {
			rows[i].keys, rows[i].empty = []item{it}, []bool{false}
			continue
		}
		for _, arg := range call.args {
			if neg, ok := arg.(*negateNode); ok {
				arg = neg.x
			}
			buf, err := c.withThis(arg, in, i, nil)
			if err != nil {
				return out, err
			}
			if len(buf) > 1 {
				return out, evalError("a sort key must be a single value, found %d", len(buf))
			}
			empty := len(buf) == 0
			if empty {
				buf = []item{{}}
			}
			rows[i].keys = append(rows[i].keys, buf[0])
			rows[i].empty = append(rows[i].empty, empty)
		}
	}
	desc := make([]bool, max(len(call.args), 1))
	for k, arg := range call.args {
		_, desc[k] = arg.(*negateNode)
	}
	var sortErr error
	slices.SortStableFunc(rows, func(a, b keyed) int {
		for k := range a.keys {
			x, y := a.keys[k], b.keys[k]
			var r int
			switch {
			case a.empty[k] && b.empty[k]:
			case a.empty[k]:
				r = 1
			case b.empty[k]:
				r = -1
			default:
				c, _, err := compareItems(x, y)
				if err != nil && sortErr == nil {
					sortErr = err
				}
				r = c
			}
			if desc[k] {
				r = -r
			}
			if r != 0 {
				return r
			}
		}
		return 0
	})
	if sortErr != nil {
		return out, sortErr
	}
	for _, r := range rows {
		out = append(out, r.it)
	}
	return out, nil
}
