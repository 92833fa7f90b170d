package fhirpath

import (
	"context"
	"sync"

	"github.com/hearth-fhir/hearth/fhir"
)

// Expr is a parsed FHIRPath expression. Parse it once and evaluate it as
// often as needed: an Expr is immutable and safe for concurrent use.
type Expr struct {
	src  string
	root node
	// pool recycles evaluation state and scratch buffers between calls.
	pool sync.Pool
}

// Parse parses a FHIRPath expression. Unknown functions and type names are
// reported here rather than on evaluation. Errors are *fhir.Error of kind
// fhir.KindInvalid.
func Parse(expr string) (*Expr, error) {
	p := &parser{lx: lexer{src: expr}, model: r4()}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, syntaxError(0, "empty expression")
	}
	root, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, syntaxError(p.tok.pos, "unexpected %s", p.describe())
	}
	return &Expr{src: expr, root: root}, nil
}

// MustParse is Parse for expressions fixed in the program; it panics on
// error.
func MustParse(expr string) *Expr {
	e, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the expression as it was written.
func (e *Expr) String() string { return e.src }

// Eval evaluates the expression on node, FHIR JSON decoded into
// map[string]any (numbers as json.Number: see Decode). A node with a
// resourceType is typed as that resource; it is also %resource unless
// WithResource says otherwise. A nil node is the empty collection.
//
// node may also be an Item from an earlier evaluation, which keeps its
// type: a composite search parameter evaluates its components' expressions
// on the items its own expression returned (pass the resource with
// WithResource for %resource and contained references).
func (e *Expr) Eval(node any, opts ...Option) ([]Item, error) {
	return e.EvalContext(context.Background(), node, opts...)
}

// EvalContext is Eval with a context, passed to the Resolver and checked
// between function calls.
func (e *Expr) EvalContext(ctx context.Context, node any, opts ...Option) ([]Item, error) {
	c, _ := e.pool.Get().(*evalCtx)
	if c == nil {
		c = &evalCtx{model: r4()}
	}
	c.ctx = ctx
	for _, o := range opts {
		o(&c.cfg)
	}
	c.root = c.rootArr[:0]
	switch n := node.(type) {
	case nil:
	case Item:
		c.rootArr[0] = fromPublic(c.model, n)
		c.root = c.rootArr[:1]
	default:
		c.rootArr[0] = c.model.rootItem(node)
		c.root = c.rootArr[:1]
	}
	c.resource = c.root
	if c.cfg.resource != nil {
		c.resource = appendVariable(c.model, c.get(), c.cfg.resource)
	}
	c.this, c.index, c.total, c.inAgg = c.root, 0, nil, false

	buf, err := e.root.eval(c, c.this, c.get())
	var out []Item
	if err == nil && len(buf) > 0 {
		out = make([]Item, len(buf))
		for i, it := range buf {
			out[i] = it.public()
		}
	}
	c.put(buf)
	if c.cfg.resource != nil {
		c.put(c.resource)
	}
	c.release()
	e.pool.Put(c)
	if err != nil {
		if _, ok := err.(*fhir.Error); !ok && ctx.Err() == nil {
			err = evalError("%v", err)
		}
		return nil, err
	}
	return out, nil
}

// release forgets everything an evaluation referenced, so a pooled
// context keeps no resource alive.
func (c *evalCtx) release() {
	c.ctx, c.cfg, c.hasNow = nil, config{}, false
	c.rootArr[0] = item{}
	c.root, c.resource, c.this, c.total = nil, nil, nil, nil
}
