package fhirpath

import "strconv"

// maxDepth bounds nesting so that hostile input ("((((…") cannot exhaust
// the stack; real expressions nest a handful of levels.
const maxDepth = 200

// parser builds the tree of an expression by precedence climbing over the
// grammar of FHIRPath N1 (http://hl7.org/fhirpath/N1/grammar.html).
type parser struct {
	lx    lexer
	tok   token
	model *model
	depth int
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.text == s }

func (p *parser) expect(s string) error {
	if !p.isPunct(s) {
		return syntaxError(p.tok.pos, "expected %q, found %s", s, p.describe())
	}
	return p.advance()
}

func (p *parser) describe() string {
	if p.tok.kind == tokEOF {
		return "end of expression"
	}
	return strconv.Quote(p.lx.src[p.tok.pos:p.lx.pos])
}

// Binary operators by precedence, loosest first.
var binaryPrecedence = map[string]int{
	"implies": 1,
	"or":      2, "xor": 2,
	"and": 3,
	"in":  4, "contains": 4,
	"=": 5, "~": 5, "!=": 5, "!~": 5,
	"<": 6, ">": 6, "<=": 6, ">=": 6,
	"|":  7,
	"is": 8, "as": 8,
	"+": 9, "-": 9, "&": 9,
	"*": 10, "/": 10, "div": 10, "mod": 10,
}

// binaryOp returns the operator at the current token, if any.
func (p *parser) binaryOp() (string, int) {
	if p.tok.kind != tokPunct && p.tok.kind != tokIdent {
		return "", 0
	}
	prec, ok := binaryPrecedence[p.tok.text]
	if !ok {
		return "", 0
	}
	return p.tok.text, prec
}

func (p *parser) expr(minPrec int) (node, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, syntaxError(p.tok.pos, "expression nests too deeply")
	}
	defer func() { p.depth-- }()
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.binaryOp()
		if op == "" || prec < minPrec {
			return left, nil
		}
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		if op == "is" || op == "as" {
			t, err := p.typeSpec()
			if err != nil {
				return nil, err
			}
			left = &typeOpNode{as: op == "as", x: left, t: t}
			continue
		}
		right, err := p.expr(prec + 1)
		if err != nil {
			return nil, err
		}
		left = newBinary(op, left, right, pos)
	}
}

func (p *parser) unary() (node, error) {
	if p.isPunct("+") || p.isPunct("-") {
		neg := p.tok.text == "-"
		if p.depth++; p.depth > maxDepth {
			return nil, syntaxError(p.tok.pos, "expression nests too deeply")
		}
		defer func() { p.depth-- }()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if !neg {
			return x, nil
		}
		return negate(x), nil
	}
	return p.postfix()
}

func (p *parser) postfix() (node, error) {
	n, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isPunct("."):
			if err := p.advance(); err != nil {
				return nil, err
			}
			inv, err := p.invocation(false)
			if err != nil {
				return nil, err
			}
			n = &pathNode{left: n, right: inv}
		case p.isPunct("["):
			if err := p.advance(); err != nil {
				return nil, err
			}
			idx, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &indexNode{left: n, index: idx}
		default:
			return n, nil
		}
	}
}

func (p *parser) term() (node, error) {
	t := p.tok
	switch t.kind {
	case tokNumber, tokLong:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return p.number(t)
	case tokString:
		return &literalNode{it: stringItem(t.text)}, p.advance()
	case tokDateTime:
		parse := parseDate
		if containsT(t.text) {
			parse = parseDateTime
		}
		v, ok := parse(t.text)
		if !ok {
			return nil, syntaxError(t.pos, "invalid date/time literal @%s", t.text)
		}
		return &literalNode{it: sysItem(v, v.typ())}, p.advance()
	case tokTime:
		v, ok := parseTime(t.text)
		if !ok {
			return nil, syntaxError(t.pos, "invalid time literal @T%s", t.text)
		}
		return &literalNode{it: sysItem(v, sysTime)}, p.advance()
	case tokVar:
		return &varNode{name: t.text}, p.advance()
	case tokSpecial:
		return &specialNode{name: t.text}, p.advance()
	case tokIdent:
		if t.text == "true" || t.text == "false" {
			return &literalNode{it: boolItem(t.text == "true")}, p.advance()
		}
		return p.invocation(true)
	case tokDelimIdent:
		return p.invocation(true)
	case tokPunct:
		switch t.text {
		case "(":
			if err := p.advance(); err != nil {
				return nil, err
			}
			n, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			return n, p.expect(")")
		case "{":
			if err := p.advance(); err != nil {
				return nil, err
			}
			return emptyNode{}, p.expect("}")
		}
	}
	return nil, syntaxError(t.pos, "unexpected %s", p.describe())
}

func containsT(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 'T' {
			return true
		}
	}
	return false
}

// number builds an Integer, Decimal or (with a unit after it) Quantity.
func (p *parser) number(t token) (node, error) {
	var it item
	if t.kind == tokLong || !containsDot(t.text) {
		i, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, syntaxError(t.pos, "integer %s out of range", t.text)
		}
		it = intItem(i)
	} else {
		d, ok := parseDecimal(t.text)
		if !ok {
			return nil, syntaxError(t.pos, "invalid number %s", t.text)
		}
		it = sysItem(d, sysDecimal)
	}
	unit := ""
	switch {
	case p.tok.kind == tokString && t.kind != tokLong:
		unit = p.tok.text
	case p.tok.kind == tokIdent && t.kind != tokLong:
		if _, ok := calendarWord(p.tok.text); ok {
			unit = p.tok.text
		}
	}
	if unit == "" {
		return &literalNode{it: it}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	d, _ := decimalOf(it.v)
	return &literalNode{it: sysItem(quantity{value: d, unit: unit}, sysQuantity)}, nil
}

func containsDot(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return true
		}
	}
	return false
}

// invocation parses a member name or a function call. head is true at the
// start of a path, where a type name selects the focus itself.
func (p *parser) invocation(head bool) (node, error) {
	t := p.tok
	switch t.kind {
	case tokIdent, tokDelimIdent:
	case tokSpecial:
		return &specialNode{name: t.text}, p.advance()
	default:
		return nil, syntaxError(t.pos, "expected a name, found %s", p.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if !p.isPunct("(") {
		// Element names start in lower case: a head naming a type only
		// ever selects the focus, and needs no element lookup.
		onlyType := head && p.model.types[t.text] != nil && !p.model.elementNames[t.text]
		return &memberNode{name: t.text, head: head, onlyType: onlyType}, nil
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	fn := lookupFunction(t.text)
	if fn == nil {
		return nil, syntaxError(t.pos, "unknown function %s()", t.text)
	}
	call := &callNode{fn: fn, pos: t.pos}
	if fn.typeArg {
		typ, err := p.typeSpec()
		if err != nil {
			return nil, err
		}
		call.typ = typ
		return call, p.expect(")")
	}
	for !p.isPunct(")") {
		if len(call.args) > 0 {
			if err := p.expect(","); err != nil {
				return nil, err
			}
		}
		arg, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		call.args = append(call.args, arg)
	}
	if len(call.args) < fn.minArgs || len(call.args) > fn.maxArgs {
		return nil, syntaxError(t.pos, "%s() takes %s", t.text, fn.arity())
	}
	return call, p.advance()
}

// typeSpec parses a type name, optionally qualified: Quantity,
// FHIR.Patient, System.String.
func (p *parser) typeSpec() (*typeInfo, error) {
	t := p.tok
	if t.kind != tokIdent && t.kind != tokDelimIdent {
		return nil, syntaxError(t.pos, "expected a type name, found %s", p.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	ns, name := "", t.text
	if p.isPunct(".") && (name == "FHIR" || name == "System") {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokIdent && p.tok.kind != tokDelimIdent {
			return nil, syntaxError(p.tok.pos, "expected a type name, found %s", p.describe())
		}
		ns, name = name, p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	typ := p.model.lookupType(ns, name)
	if typ == nil {
		return nil, syntaxError(t.pos, "unknown type %s", name)
	}
	return typ, nil
}

// negate builds unary minus, folding it into number literals so that -1
// is a literal like 1.
func negate(x node) node {
	if lit, ok := x.(*literalNode); ok {
		switch v := lit.it.v.(type) {
		case int64:
			return &literalNode{it: intItem(-v)}
		case decimal:
			return &literalNode{it: sysItem(v.neg(), sysDecimal)}
		case quantity:
			return &literalNode{it: sysItem(quantity{value: v.value.neg(), unit: v.unit}, sysQuantity)}
		}
	}
	return &negateNode{x: x}
}
