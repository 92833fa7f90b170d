package search

import (
	"fmt"

	"github.com/hearth-fhir/hearth/fhir/fhirpath"
)

// compiler parses expressions once, sharing the result between the many
// resource types whose parameters have the same expression.
type compiler struct {
	cache map[string]*fhirpath.Expr
}

func newCompiler() *compiler { return &compiler{cache: map[string]*fhirpath.Expr{}} }

// compile parses p's expression. Parameters that are never extracted
// (resource columns, composite and special ones, those without an
// expression) stay uncompiled.
func (c *compiler) compile(p *Param) error {
	if p.Expression == "" || !p.Supported() || p.Code == ParamID || p.Code == ParamLastUpdated {
		return nil
	}
	if e, ok := c.cache[p.Expression]; ok {
		p.expr = e
		return nil
	}
	e, err := fhirpath.Parse(p.Expression)
	if err != nil {
		return fmt.Errorf("expression %q: %w", p.Expression, err)
	}
	c.cache[p.Expression] = e
	p.expr = e
	return nil
}
