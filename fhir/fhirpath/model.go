package fhirpath

import (
	_ "embed"
	"strings"
	"sync"
)

//go:generate go run ./internal/modelgen -defs ../../../shared/fhir-r4/definitions -o model_r4.txt

// modelR4 is the compact R4 type table written by internal/modelgen: every
// resource, data type and backbone element with its elements' types and
// cardinality. It is what lets `Observation.value` find valueQuantity and
// `Patient.active.is(boolean)` answer without a StructureDefinition at hand.
//
//go:embed model_r4.txt
var modelR4 string

// r4 parses the table once, on first use; the result is never modified, so
// every evaluation shares it safely.
var r4 = sync.OnceValue(func() *model { return parseModel(modelR4) })

type typeKind uint8

const (
	kindSystem typeKind = iota
	kindPrimitive
	kindComplex
	kindResource
	kindBackbone
)

// typeInfo is a type an expression can name or an item can have.
type typeInfo struct {
	ns     string // "FHIR" or "System"
	name   string // "HumanName", "code", "Boolean"; backbone elements by path, e.g. "Patient.contact"
	kind   typeKind
	base   *typeInfo
	sys    *typeInfo           // for FHIR primitives, the System type of their value
	elems  []*element          // its own elements, in definition order
	byName map[string]*element // its own and its bases' elements
}

// element is one element of a complex type, resource or backbone element.
type element struct {
	name    string      // without [x]
	types   []*typeInfo // one, or the choices of a [x] element
	keys    []string    // JSON member name for each type: "value" or "valueQuantity" …
	extKeys []string    // the "_"-prefixed sibling carrying a primitive's id and extensions
	many    bool
	choice  bool
}

// model is a set of FHIR types by name.
type model struct {
	types map[string]*typeInfo
	// elementNames holds the name of every element of every type.
	elementNames map[string]bool
}

// System types. They are fixed and never modified.
var (
	sysAny      = &typeInfo{ns: "System", name: "Any", kind: kindSystem}
	sysBoolean  = &typeInfo{ns: "System", name: "Boolean", kind: kindSystem, base: sysAny}
	sysString   = &typeInfo{ns: "System", name: "String", kind: kindSystem, base: sysAny}
	sysInteger  = &typeInfo{ns: "System", name: "Integer", kind: kindSystem, base: sysAny}
	sysDecimal  = &typeInfo{ns: "System", name: "Decimal", kind: kindSystem, base: sysAny}
	sysDate     = &typeInfo{ns: "System", name: "Date", kind: kindSystem, base: sysAny}
	sysDateTime = &typeInfo{ns: "System", name: "DateTime", kind: kindSystem, base: sysAny}
	sysTime     = &typeInfo{ns: "System", name: "Time", kind: kindSystem, base: sysAny}
	sysQuantity = &typeInfo{ns: "System", name: "Quantity", kind: kindSystem, base: sysAny}
	// sysTypeInfo is the type of what type() returns.
	sysTypeInfo = &typeInfo{ns: "System", name: "SimpleTypeInfo", kind: kindSystem, base: sysAny}
	// sysNone stands for a System.X that does not exist: nothing is of it.
	sysNone = &typeInfo{ns: "System", name: "", kind: kindSystem}
)

func systemType(name string) *typeInfo {
	for _, t := range [...]*typeInfo{sysAny, sysBoolean, sysString, sysInteger, sysDecimal, sysDate, sysDateTime, sysTime, sysQuantity} {
		if t.name == name {
			return t
		}
	}
	return nil
}

// primitiveSystem maps the FHIR primitives that others derive from to the
// System type of their values.
var primitiveSystem = map[string]*typeInfo{
	"boolean": sysBoolean, "string": sysString, "uri": sysString, "base64Binary": sysString,
	"xhtml": sysString, "integer": sysInteger, "decimal": sysDecimal, "date": sysDate,
	"dateTime": sysDateTime, "instant": sysDateTime, "time": sysTime,
}

func parseModel(text string) *model {
	m := &model{types: map[string]*typeInfo{}, elementNames: map[string]bool{}}
	type pending struct {
		t     *typeInfo
		base  string
		lines []string
	}
	var all []*pending
	var cur *pending
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '\t' {
			cur.lines = append(cur.lines, line[1:])
			continue
		}
		f := strings.Fields(line)
		t := &typeInfo{ns: "FHIR", name: f[0]}
		switch f[1] {
		case "p":
			t.kind = kindPrimitive
		case "r":
			t.kind = kindResource
		case "b":
			t.kind = kindBackbone
		default:
			t.kind = kindComplex
		}
		cur = &pending{t: t, base: f[2]}
		all = append(all, cur)
		m.types[t.name] = t
	}
	for _, p := range all {
		p.t.base = m.types[p.base]
		p.t.byName = map[string]*element{}
		for _, l := range p.lines {
			f := strings.Fields(l)
			el := &element{name: f[0], many: len(f) > 2}
			if strings.HasSuffix(el.name, "[x]") {
				el.name = strings.TrimSuffix(el.name, "[x]")
				el.choice = true
			}
			for _, tn := range strings.Split(f[1], "|") {
				et := m.types[tn]
				if et == nil {
					et = &typeInfo{ns: "FHIR", name: tn, kind: kindComplex}
				}
				key := el.name
				if el.choice {
					key += strings.ToUpper(tn[:1]) + tn[1:]
				}
				el.types = append(el.types, et)
				el.keys = append(el.keys, key)
				el.extKeys = append(el.extKeys, "_"+key)
			}
			p.t.elems = append(p.t.elems, el)
			m.elementNames[el.name] = true
			p.t.byName[el.name] = el
		}
	}
	// byName also holds the bases' elements, so that finding one is a
	// single lookup; elems keeps only the type's own, in order.
	for _, p := range all {
		for b := p.t.base; b != nil; b = b.base {
			for _, el := range b.elems {
				if _, own := p.t.byName[el.name]; !own {
					p.t.byName[el.name] = el
				}
			}
		}
	}
	for _, p := range all {
		for t := p.t; t != nil; t = t.base {
			if s := primitiveSystem[t.name]; s != nil && p.t.kind == kindPrimitive {
				p.t.sys = s
				break
			}
		}
	}
	return m
}

// resource returns the resource type called name, or nil.
func (m *model) resource(name string) *typeInfo {
	if t := m.types[name]; t != nil && t.kind == kindResource {
		return t
	}
	return nil
}

// element finds the element called name on t or one of its bases.
func (t *typeInfo) element(name string) *element { return t.byName[name] }

// is reports whether t is u or derives from it.
func (t *typeInfo) is(u *typeInfo) bool {
	for ; t != nil; t = t.base {
		if t == u {
			return true
		}
	}
	return false
}

// typeName is the name type() reports: backbone elements are
// BackboneElement (or Element) like in the specification.
func (t *typeInfo) typeName() string {
	if t.kind == kindBackbone {
		return t.base.name
	}
	return t.name
}

// isPrimitive reports whether values of t are JSON primitives.
func (t *typeInfo) isPrimitive() bool {
	return t.kind == kindPrimitive || (t.kind == kindSystem && t != sysQuantity && t != sysTypeInfo)
}

// lookupType resolves a type specifier: "Quantity", "FHIR.Patient",
// "System.String". Unqualified names are looked up in FHIR first, then
// System, as the specification says.
func (m *model) lookupType(ns, name string) *typeInfo {
	switch ns {
	case "FHIR":
		if t := m.types[name]; t != nil && t.kind != kindBackbone {
			return t
		}
		return nil
	case "System":
		if t := systemType(name); t != nil {
			return t
		}
		return sysNone
	case "":
		if t := m.lookupType("FHIR", name); t != nil {
			return t
		}
		return systemType(name)
	}
	return nil
}
