package search

// compiled is a parameter's expression, parsed once at start.
type compiled struct {
	src string
}

// compiler parses expressions, sharing the result between the many
// resource types whose parameters have the same expression.
type compiler struct {
	cache map[string]*compiled
}

func newCompiler() *compiler { return &compiler{cache: map[string]*compiled{}} }

// compile parses p's expression; parameters without one stay uncompiled.
func (c *compiler) compile(p *Param) error {
	if p.Expression == "" {
		return nil
	}
	if e, ok := c.cache[p.Expression]; ok {
		p.expr = e
		return nil
	}
	e := &compiled{src: p.Expression}
	c.cache[p.Expression] = e
	p.expr = e
	return nil
}
