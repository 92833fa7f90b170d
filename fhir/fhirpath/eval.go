package fhirpath

import (
	"context"
	"strings"
	"time"
)

// node is one piece of a parsed expression. eval evaluates it against the
// focus (the input collection) and appends the result to out. Nodes are
// immutable, so one tree serves any number of concurrent evaluations.
type node interface {
	eval(c *evalCtx, focus []item, out []item) ([]item, error)
}

// evalCtx is the state of one evaluation. Evaluations reuse them through
// the Expr's pool, together with their scratch buffers, so a typical path
// allocates only its result.
type evalCtx struct {
	ctx      context.Context
	model    *model
	cfg      config
	rootArr  [1]item
	root     []item // %context
	resource []item // %resource and %rootResource
	this     []item // $this: the whole input at the top, one item in a lambda
	index    int    // $index
	total    []item // $total, inside aggregate()
	inAgg    bool
	now      time.Time
	hasNow   bool
	free     [][]item
}

// get returns an empty scratch buffer; put gives it back.
func (c *evalCtx) get() []item {
	if n := len(c.free); n > 0 {
		b := c.free[n-1]
		c.free = c.free[:n-1]
		return b
	}
	return make([]item, 0, 8)
}

func (c *evalCtx) put(b []item) {
	if cap(b) > maxPooledBuffer {
		return // one huge Bundle should not pin its buffers in the pool
	}
	clear(b) // drop references to the resource
	c.free = append(c.free, b[:0])
}

// maxPooledBuffer is the largest scratch buffer kept for reuse.
const maxPooledBuffer = 4096

// clock returns the evaluation's single reading of the clock: now() is the
// same everywhere in one expression.
func (c *evalCtx) clock() time.Time {
	if !c.hasNow {
		if c.cfg.now != nil {
			c.now = c.cfg.now()
		} else {
			c.now = time.Now()
		}
		c.hasNow = true
	}
	return c.now
}

// withThis evaluates n once with $this set to in[i:i+1] and $index to i;
// lambdas (where, select, all …) call it for each input item.
func (c *evalCtx) withThis(n node, in []item, i int, out []item) ([]item, error) {
	saveThis, saveIndex := c.this, c.index
	c.this, c.index = in[i:i+1], i
	out, err := n.eval(c, c.this, out)
	c.this, c.index = saveThis, saveIndex
	return out, err
}

// arg evaluates a function argument against $this, the way FHIRPath
// evaluates arguments that are not lambdas.
func (c *evalCtx) arg(n node, out []item) ([]item, error) {
	return n.eval(c, c.this, out)
}

type literalNode struct{ it item }

func (n *literalNode) eval(_ *evalCtx, _ []item, out []item) ([]item, error) {
	return append(out, n.it), nil
}

type emptyNode struct{}

func (emptyNode) eval(_ *evalCtx, _ []item, out []item) ([]item, error) { return out, nil }

// memberNode is a name in a path: the members of that name of each focus
// item. At the head of a path a type name selects the item itself, so that
// `Patient.name` works on a Patient.
type memberNode struct {
	name     string
	head     bool
	onlyType bool // head names a FHIR type and no element
}

func (n *memberNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	for _, it := range focus {
		if n.head && isTypeName(it, n.name) {
			out = append(out, it)
			continue
		}
		if n.onlyType {
			continue
		}
		var known bool
		if out, known = c.model.member(it, n.name, out); !known {
			return out, evalError("%s has no element %q", it.t.typeName(), n.name)
		}
	}
	return out, nil
}

// pathNode is left.right: right evaluated on what left returns.
type pathNode struct{ left, right node }

func (n *pathNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	tmp, err := n.left.eval(c, focus, c.get())
	if err == nil {
		out, err = n.right.eval(c, tmp, out)
	}
	c.put(tmp)
	return out, err
}

// indexNode is left[index].
type indexNode struct{ left, index node }

func (n *indexNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	idx, err := c.arg(n.index, c.get())
	defer c.put(idx)
	if err != nil {
		return out, err
	}
	if len(idx) == 0 {
		return out, nil
	}
	i, ok := integerArg(idx)
	if !ok {
		return out, evalError("an index must be a single integer")
	}
	tmp, err := n.left.eval(c, focus, c.get())
	if err == nil && i >= 0 && i < int64(len(tmp)) {
		out = append(out, tmp[i])
	}
	c.put(tmp)
	return out, err
}

// specialNode is $this, $index or $total.
type specialNode struct{ name string }

func (n *specialNode) eval(c *evalCtx, _ []item, out []item) ([]item, error) {
	switch n.name {
	case "this":
		return append(out, c.this...), nil
	case "index":
		return append(out, intItem(int64(c.index))), nil
	}
	if !c.inAgg {
		return out, evalError("$total is only defined inside aggregate()")
	}
	return append(out, c.total...), nil
}

// varNode is %name.
type varNode struct{ name string }

func (n *varNode) eval(c *evalCtx, _ []item, out []item) ([]item, error) {
	for _, v := range c.cfg.vars {
		if v.name == n.name {
			return appendVariable(c.model, out, v.value), nil
		}
	}
	switch n.name {
	case "context":
		return append(out, c.root...), nil
	case "resource", "rootResource":
		return append(out, c.resource...), nil
	case "ucum":
		return append(out, stringItem(ucumSystem)), nil
	case "sct":
		return append(out, stringItem("http://snomed.info/sct")), nil
	case "loinc":
		return append(out, stringItem("http://loinc.org")), nil
	}
	if len(n.name) > 3 && n.name[:3] == "vs-" {
		return append(out, stringItem("http://hl7.org/fhir/ValueSet/"+n.name[3:])), nil
	}
	if len(n.name) > 4 && n.name[:4] == "ext-" {
		return append(out, stringItem("http://hl7.org/fhir/StructureDefinition/"+n.name[4:])), nil
	}
	return out, evalError("unknown variable %%%s", n.name)
}

// appendVariable turns a caller's variable (JSON, a []any collection, or
// Items from an earlier evaluation) into items.
func appendVariable(m *model, out []item, v any) []item {
	switch x := v.(type) {
	case nil:
		return out
	case []any:
		for _, e := range x {
			out = appendVariable(m, out, e)
		}
		return out
	case Item:
		return append(out, fromPublic(m, x))
	case []Item:
		for _, e := range x {
			out = append(out, fromPublic(m, e))
		}
		return out
	}
	return append(out, m.rootItem(v))
}

// fromPublic turns an Item back into an item with its exact type.
func fromPublic(m *model, it Item) item {
	if name, ok := strings.CutPrefix(it.Type, "System."); ok {
		switch t := systemType(name); t {
		case nil:
		case sysQuantity:
			if obj, ok := it.Value.(map[string]any); ok {
				if q, ok := quantityFromJSON(obj); ok {
					return item{v: q, t: sysQuantity}
				}
			}
		default:
			if v, st, ok := primitiveValue(it.Value, t); ok && st == t {
				return item{v: v, t: t}
			}
		}
	}
	if t := m.types[it.Type]; t != nil {
		return item{v: it.Value, ext: it.ext, t: m.valueType(it.Value, t)}
	}
	return m.rootItem(it.Value)
}

// negateNode is unary minus on something other than a number literal.
type negateNode struct{ x node }

func (n *negateNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	tmp, err := n.x.eval(c, focus, c.get())
	defer c.put(tmp)
	if err != nil || len(tmp) == 0 {
		return out, err
	}
	if len(tmp) > 1 {
		return out, evalError("unary minus needs a single value, not %d", len(tmp))
	}
	v, _, _ := tmp[0].system()
	switch x := v.(type) {
	case int64:
		return append(out, intItem(-x)), nil
	case decimal:
		return append(out, sysItem(x.neg(), sysDecimal)), nil
	case quantity:
		return append(out, sysItem(quantity{value: x.value.neg(), unit: x.unit}, sysQuantity)), nil
	}
	return out, evalError("unary minus needs a number or quantity")
}

// typeOpNode is `x is T` or `x as T`.
type typeOpNode struct {
	as bool
	x  node
	t  *typeInfo
}

func (n *typeOpNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	tmp, err := n.x.eval(c, focus, c.get())
	defer c.put(tmp)
	if err != nil {
		return out, err
	}
	if n.as {
		return appendAs(out, tmp, n.t), nil
	}
	switch len(tmp) {
	case 0:
		return out, nil
	case 1:
		return append(out, boolItem(isOf(tmp[0], n.t))), nil
	}
	return out, evalError("'is' needs a single item, not %d", len(tmp))
}

// callNode is a function call; the function evaluates its own arguments,
// because lambdas (where, select …) evaluate them once per input item.
type callNode struct {
	fn   *function
	args []node
	typ  *typeInfo // the type argument of is(), as() and ofType()
	pos  int
}

func (n *callNode) eval(c *evalCtx, focus []item, out []item) ([]item, error) {
	if err := c.ctx.Err(); err != nil {
		return out, err
	}
	return n.fn.impl(c, focus, n, out)
}
