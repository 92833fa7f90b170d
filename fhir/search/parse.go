package search

import (
	"net/url"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// ParseOptions is what parsing needs besides the query.
type ParseOptions struct {
	// Base is this server's FHIR base URL (http://host/fhir): absolute
	// references under it are local ones.
	Base string
	// Now is the clock reading that ap on dates measures from.
	Now time.Time
	// Strict refuses unknown and unsupported parameters (Prefer:
	// handling=strict) instead of ignoring them.
	Strict bool
}

// Limits on query shape, so that no query string can make the database do
// unbounded work.
const (
	maxChain      = 3   // references followed by one chained parameter
	maxHas        = 3   // nested _has
	maxValues     = 100 // values of one parameter (OR)
	maxParameters = 100
)

// Parse reads a search query string (as in a URL, or a form body) for
// resource type typ; typ "" is a system-level search, whose types come from
// _type. Invalid values and unsupported modifiers are KindInvalid errors
// that name the parameter.
func (r *Registry) Parse(typ, rawQuery string, opt ParseOptions) (*Query, error) {
	pairs, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	if len(pairs) > maxParameters {
		return nil, fhir.Errorf(fhir.KindInvalid, "a search takes at most %d parameters", maxParameters)
	}
	p := &parser{reg: r, opt: opt, q: &Query{Count: -1}}
	if typ != "" {
		if r.byType[typ] == nil {
			return nil, fhir.Errorf(fhir.KindNotFound, "unknown resource type %q", typ)
		}
		p.q.Types = []string{typ}
	} else if err := p.systemTypes(pairs); err != nil {
		return nil, err
	}
	for _, kv := range pairs {
		if err := p.pair(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	return p.q, nil
}

// splitQuery splits a query string into its name/value pairs, in order.
func splitQuery(raw string) ([][2]string, error) {
	var out [][2]string
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, fhir.Errorf(fhir.KindInvalid, "the query string is not correctly percent-encoded")
		}
		out = append(out, [2]string{name, value})
	}
	return out, nil
}

type parser struct {
	reg *Registry
	opt ParseOptions
	q   *Query
}

// ignore leaves a parameter out, or refuses it under strict handling.
func (p *parser) ignore(name, reason string) error {
	if p.opt.Strict {
		return fhir.Errorf(fhir.KindInvalid, "%s: %s", name, reason).At(name)
	}
	p.q.Ignored = append(p.q.Ignored, Ignored{Name: name, Reason: reason})
	return nil
}

// systemTypes reads _type for a system-level search.
func (p *parser) systemTypes(pairs [][2]string) error {
	for _, kv := range pairs {
		if kv[0] != "_type" {
			continue
		}
		for _, t := range strings.Split(kv[1], ",") {
			if p.reg.byType[t] == nil {
				return fhir.Errorf(fhir.KindInvalid, "_type: unknown resource type %q", t).At("_type")
			}
			if !contains(p.q.Types, t) {
				p.q.Types = append(p.q.Types, t)
			}
		}
	}
	return nil
}

// pair handles one name=value of the query.
func (p *parser) pair(name, value string) error {
	if handled, err := p.result(name, value); handled {
		return err
	}
	if value == "" {
		return p.ignore(name, "the parameter has no value")
	}
	if strings.HasPrefix(name, "_has:") {
		c, err := p.has(name, value, p.q.Types, 1)
		if err != nil || c == nil {
			return err
		}
		p.q.Criteria = append(p.q.Criteria, *c)
		return nil
	}
	c, err := p.criterion(p.q.Types, name, value, 0)
	if err != nil || c == nil {
		// Errors deep in a chain name the whole parameter.
		if fe, ok := err.(*fhir.Error); ok {
			return fe.At(name)
		}
		return err
	}
	p.q.Criteria = append(p.q.Criteria, *c)
	return nil
}

// lookup finds the parameter code for every type in types (all types when
// types is empty: then only the parameters every resource has). It
// returns nil when some type lacks it or the types disagree on its type.
func (p *parser) lookup(types []string, code string) *Param {
	if len(types) == 0 {
		if prm := p.reg.Lookup("Patient", code); prm != nil && strings.Contains(prm.URL, "/Resource-") {
			return prm
		}
		return nil
	}
	var first *Param
	for _, t := range types {
		prm := p.reg.Lookup(t, code)
		if prm == nil || (first != nil && prm.Type != first.Type) {
			return nil
		}
		if first == nil {
			first = prm
		}
	}
	return first
}

// criterion parses `code[:modifier]=values` or a chain
// `ref[:Type].code...=values` on resources of types. It returns nil when
// the parameter is ignored.
func (p *parser) criterion(types []string, name, value string, depth int) (*Criterion, error) {
	head, rest, chained := strings.Cut(name, ".")
	code, mod, _ := strings.Cut(head, ":")
	prm := p.lookup(types, code)
	if prm == nil {
		return nil, p.ignore(name, "unknown search parameter "+code+" for "+typeList(types))
	}
	if !prm.Supported() {
		return nil, fhir.Errorf(fhir.KindInvalid,
			"search parameter %s (%s) is not supported by this server", code, prm.Type).At(name)
	}
	c := &Criterion{Param: prm}
	if chained {
		return p.chain(c, types, name, mod, rest, value, depth)
	}
	targetType, err := p.modifier(c, mod, name)
	if err != nil {
		return nil, err
	}
	if c.Modifier == ModMissing {
		switch value {
		case "true", "false":
			c.Missing = value == "true"
			return c, nil
		}
		return nil, fhir.Errorf(fhir.KindInvalid, ":missing takes true or false").At(name)
	}
	raws := splitEscaped(value, ',')
	if len(raws) > maxValues {
		return nil, fhir.Errorf(fhir.KindInvalid, "at most %d values per parameter", maxValues).At(name)
	}
	for _, raw := range raws {
		v, err := p.value(c, targetType, raw)
		if err != nil {
			return nil, withExpression(err, name)
		}
		c.Values = append(c.Values, v)
	}
	return c, nil
}

// modifier checks a modifier against the parameter's type and records it.
// For a reference, a resource type modifier is returned as targetType.
func (p *parser) modifier(c *Criterion, mod, name string) (targetType string, err error) {
	m := Modifier(mod)
	ok := mod == "" || m == ModMissing
	switch c.Param.Type {
	case TypeString:
		ok = ok || m == ModExact || m == ModContains
	case TypeToken:
		ok = ok || m == ModNot || m == ModText
	case TypeURI:
		ok = ok || m == ModAbove || m == ModBelow
	case TypeReference:
		if fhir.IsResourceType(mod) {
			if len(c.Param.Targets) > 0 && !contains(c.Param.Targets, mod) {
				return "", fhir.Errorf(fhir.KindInvalid, "%s does not refer to %s resources", c.Param.Code, mod).At(name)
			}
			c.Modifier = ModType
			return mod, nil
		}
		ok = ok || m == ModIdentifier
	}
	if c.Param.Code == ParamID && m == ModMissing {
		ok = false
	}
	if !ok {
		return "", fhir.Errorf(fhir.KindInvalid, "modifier :%s is not supported on %s parameter %s",
			mod, c.Param.Type, c.Param.Code).At(name)
	}
	c.Modifier = m
	return "", nil
}

// value parses one value of a criterion by the parameter's type.
func (p *parser) value(c *Criterion, targetType, raw string) (Value, error) {
	if raw == "" {
		return nil, fhir.Errorf(fhir.KindInvalid, "empty value in a list of values")
	}
	switch {
	case c.Modifier == ModText:
		return parseString(unescape(raw))
	case c.Modifier == ModIdentifier:
		return parseToken(raw)
	}
	switch c.Param.Type {
	case TypeString:
		return parseString(unescape(raw))
	case TypeToken:
		if c.Param.Code == ParamID {
			return TokenValue{Code: unescape(raw)}, nil
		}
		return parseToken(raw)
	case TypeReference:
		return parseReference(raw, c.Param, targetType, p.opt.Base)
	case TypeDate:
		return parseDate(raw, p.opt.Now)
	case TypeNumber:
		return parseNumber(raw)
	case TypeQuantity:
		return parseQuantity(raw)
	case TypeURI:
		return parseURI(raw, c.Modifier)
	}
	return nil, fhir.Errorf(fhir.KindInvalid, "search parameter %s is not supported", c.Param.Code)
}

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

func typeList(types []string) string {
	if len(types) == 0 {
		return "all resource types"
	}
	return strings.Join(types, ", ")
}

// withExpression names the parameter on a value error.
func withExpression(err error, name string) error {
	if fe, ok := err.(*fhir.Error); ok && fe.Expression == "" {
		return fe.At(name)
	}
	return err
}
