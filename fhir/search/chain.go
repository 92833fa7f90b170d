package search

import (
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// chain parses the rest of a chained parameter: c is the reference
// parameter, mod its type modifier, rest what follows the dot.
func (p *parser) chain(c *Criterion, types []string, name, mod, rest, value string, depth int) (*Criterion, error) {
	if c.Param.Type != TypeReference {
		return nil, fhir.Errorf(fhir.KindInvalid, "%s is not a reference parameter and cannot be chained", c.Param.Code).At(name)
	}
	if depth+1 >= maxChain {
		return nil, fhir.Errorf(fhir.KindInvalid, "chains may follow at most %d references", maxChain-1).At(name)
	}
	targets := c.Param.Targets
	if mod != "" {
		if !fhir.IsResourceType(mod) || (len(targets) > 0 && !contains(targets, mod)) {
			return nil, fhir.Errorf(fhir.KindInvalid, "%s does not refer to %q resources", c.Param.Code, mod).At(name)
		}
		targets = []string{mod}
	}
	// Without a type, the chain searches every target type that has the
	// chained parameter.
	nextCode, _, _ := strings.Cut(strings.SplitN(rest, ".", 2)[0], ":")
	var types2 []string
	for _, t := range targets {
		if p.reg.Lookup(t, nextCode) != nil {
			types2 = append(types2, t)
		}
	}
	if len(types2) == 0 {
		return nil, p.ignore(name, "no resource that "+c.Param.Code+" refers to has a parameter "+nextCode)
	}
	where, err := p.criterion(types2, rest, value, depth+1)
	if err != nil || where == nil {
		return nil, err
	}
	c.Chain = &Chain{Types: types2, Where: *where}
	return c, nil
}

// has parses `_has:Type:ref:param=value`, whose param may itself be _has.
func (p *parser) has(name, value string, types []string, depth int) (*Criterion, error) {
	if depth > maxHas {
		return nil, fhir.Errorf(fhir.KindInvalid, "_has may nest at most %d deep", maxHas).At(name)
	}
	parts := strings.SplitN(strings.TrimPrefix(name, "_has:"), ":", 3)
	if len(parts) != 3 {
		return nil, fhir.Errorf(fhir.KindInvalid, "_has takes _has:Type:reference:parameter").At(name)
	}
	typ, refCode, rest := parts[0], parts[1], parts[2]
	if p.reg.byType[typ] == nil {
		return nil, fhir.Errorf(fhir.KindInvalid, "_has: unknown resource type %q", typ).At(name)
	}
	ref := p.reg.Lookup(typ, refCode)
	if ref == nil || ref.Type != TypeReference {
		return nil, fhir.Errorf(fhir.KindInvalid, "_has: %s has no reference parameter %q", typ, refCode).At(name)
	}
	var where *Criterion
	var err error
	if strings.HasPrefix(rest, "_has:") {
		where, err = p.has(rest, value, []string{typ}, depth+1)
	} else {
		where, err = p.criterion([]string{typ}, rest, value, 0)
	}
	if err != nil || where == nil {
		return nil, err
	}
	return &Criterion{Has: &Has{Type: typ, Ref: ref, Where: *where}}, nil
}
