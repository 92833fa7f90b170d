package fhirpath

import "strings"

type binOp uint8

const (
	opAnd binOp = iota
	opOr
	opXor
	opImplies
	opEq
	opNe
	opEquiv
	opNotEquiv
	opLt
	opGt
	opLe
	opGe
	opUnion
	opIn
	opContains
	opAdd
	opSub
	opConcat
	opMul
	opDiv
	opIntDiv
	opMod
)

var binOps = map[string]binOp{
	"and": opAnd, "or": opOr, "xor": opXor, "implies": opImplies,
	"=": opEq, "!=": opNe, "~": opEquiv, "!~": opNotEquiv,
	"<": opLt, ">": opGt, "<=": opLe, ">=": opGe,
	"|": opUnion, "in": opIn, "contains": opContains,
	"+": opAdd, "-": opSub, "&": opConcat, "*": opMul, "/": opDiv, "div": opIntDiv, "mod": opMod,
}

// binaryNode is an operator with two operands, both evaluated against the
// same focus.
type binaryNode struct {
	op   binOp
	l, r node
	pos  int
}

func newBinary(op string, l, r node, pos int) node {
	return &binaryNode{op: binOps[op], l: l, r: r, pos: pos}
}

func (n *binaryNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	l, err := n.l.eval(c, focus, c.get())
	defer c.put(l)
	if err != nil {
		return out, err
	}
	// and, or and implies may be decided by their left operand alone.
	var lv, lk bool
	switch n.op {
	case opAnd, opOr, opXor, opImplies:
		if lv, lk, err = truth(l); err != nil {
			return out, err
		}
		if lk && ((n.op == opAnd && !lv) || (n.op == opOr && lv)) {
			return append(out, boolItem(lv)), nil
		}
		if lk && n.op == opImplies && !lv {
			return append(out, boolItem(true)), nil
		}
	}
	r, err := n.r.eval(c, focus, c.get())
	defer c.put(r)
	if err != nil {
		return out, err
	}
	switch n.op {
	case opAnd, opOr, opXor, opImplies:
		rv, rk, err := truth(r)
		if err != nil {
			return out, err
		}
		return logic(out, n.op, lv, lk, rv, rk), nil
	case opEq, opNe:
		eq, known := equalCollections(l, r)
		if !known {
			return out, nil
		}
		return append(out, boolItem(eq == (n.op == opEq))), nil
	case opEquiv, opNotEquiv:
		return append(out, boolItem(equivalentCollections(l, r) == (n.op == opEquiv))), nil
	case opLt, opGt, opLe, opGe:
		return compareOp(out, n.op, l, r)
	case opUnion:
		return union(out, l, r), nil
	case opIn:
		return membership(out, l, r)
	case opContains:
		return membership(out, r, l)
	}
	return arithmetic(out, n.op, l, r)
}

// truth converts a collection to a boolean by FHIRPath's singleton
// evaluation: empty is unknown, one Boolean is itself, any other single
// item is true, and several items are an error.
func truth(col []item) (val, known bool, err error) {
	switch len(col) {
	case 0:
		return false, false, nil
	case 1:
		if v, _, ok := col[0].system(); ok {
			if b, ok := v.(bool); ok {
				return b, true, nil
			}
		}
		return true, true, nil
	}
	return false, false, evalError("expected a single boolean, found %d items", len(col))
}

// logic applies three-valued and, or, xor and implies.
func logic(out []item, op binOp, l, lk, r, rk bool) []item {
	switch op {
	case opAnd:
		switch {
		case (lk && !l) || (rk && !r):
			return append(out, boolItem(false))
		case lk && rk:
			return append(out, boolItem(true))
		}
	case opOr:
		switch {
		case (lk && l) || (rk && r):
			return append(out, boolItem(true))
		case lk && rk:
			return append(out, boolItem(false))
		}
	case opXor:
		if lk && rk {
			return append(out, boolItem(l != r))
		}
	case opImplies:
		switch {
		case lk && !l, rk && r:
			return append(out, boolItem(true))
		case lk && rk:
			return append(out, boolItem(false))
		}
	}
	return out
}

func compareOp(out []item, op binOp, l, r []item) ([]item, error) {
	if len(l) == 0 || len(r) == 0 {
		return out, nil
	}
	if len(l) > 1 || len(r) > 1 {
		return out, evalError("comparison needs single items, found %d and %d", len(l), len(r))
	}
	c, known, err := compareItems(l[0], r[0])
	if err != nil || !known {
		return out, err
	}
	var res bool
	switch op {
	case opLt:
		res = c < 0
	case opGt:
		res = c > 0
	case opLe:
		res = c <= 0
	default:
		res = c >= 0
	}
	return append(out, boolItem(res)), nil
}

// compareItems orders two items of comparable types; known is false when
// precision or units leave the answer open.
func compareItems(a, b item) (c int, known bool, err error) {
	av, at, aok := a.system()
	bv, bt, bok := b.system()
	if !aok || !bok {
		return 0, false, evalError("cannot compare %s with %s", typeLabel(a), typeLabel(b))
	}
	switch x := av.(type) {
	case int64, decimal:
		if y, ok := numeric(bv); ok {
			xd, _ := numeric(x)
			return xd.cmp(y), true, nil
		}
	case string:
		switch y := bv.(type) {
		case string:
			return strings.Compare(x, y), true, nil
		case temporal:
			if t, ok := parseLike(x, y); ok {
				c, known := compareTemporal(t, y)
				return c, known, nil
			}
		}
	case temporal:
		switch y := bv.(type) {
		case temporal:
			if (x.kind == kindTimeOfDay) == (y.kind == kindTimeOfDay) {
				c, known := compareTemporal(x, y)
				return c, known, nil
			}
		case string:
			if t, ok := parseLike(y, x); ok {
				c, known := compareTemporal(x, t)
				return c, known, nil
			}
		}
	case quantity:
		if y, ok := bv.(quantity); ok {
			c, known := compareQuantity(x, y)
			return c, known, nil
		}
	}
	return 0, false, evalError("cannot compare %s with %s", at.name, bt.name)
}

// typeLabel names an item's type for error messages.
func typeLabel(it item) string {
	if it.t != nil {
		return it.t.typeName()
	}
	return "an untyped value"
}

// union appends the items of l and r that are not already in out or
// earlier in the union: FHIRPath `|` removes duplicates.
func union(out, l, r []item) []item {
	start := len(out)
	for _, col := range [2][]item{l, r} {
		for _, it := range col {
			if !containsItem(out[start:], it) {
				out = append(out, it)
			}
		}
	}
	return out
}

// membership is `x in col` (and `col contains x` with operands swapped).
func membership(out, x, col []item) ([]item, error) {
	switch len(x) {
	case 0:
		return out, nil
	case 1:
		return append(out, boolItem(containsItem(col, x[0]))), nil
	}
	return out, evalError("'in' and 'contains' need a single item, found %d", len(x))
}
