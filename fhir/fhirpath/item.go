package fhirpath

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Item is one member of a result collection.
type Item struct {
	// Type names the item's type: a FHIR type ("HumanName", "code",
	// "Reference", "Patient") for data taken from the resource, with
	// backbone elements named by their path ("Observation.component"); or
	// "System.Boolean", "System.String", "System.Integer",
	// "System.Decimal", "System.Date", "System.DateTime", "System.Time" or
	// "System.Quantity" for values the expression computed. It is empty for
	// JSON the FHIR model does not describe.
	Type string
	// Value is the item as FHIR JSON: map[string]any for complex types
	// and resources; string, json.Number or bool for primitives (nil for a
	// primitive that has only extensions). Computed dates and times are
	// strings in FHIR format and computed quantities FHIR Quantity objects.
	Value any
	// ext is a primitive's "_name" sibling, kept so that an Item passed
	// back to Eval still has its extensions.
	ext any
}

// item is one member of a collection while an expression runs.
type item struct {
	// v is JSON (map[string]any, string, json.Number, bool, nil) for FHIR
	// types and untyped data, and bool, int64, string, decimal, temporal,
	// quantity or map[string]any (type info) for System types.
	v any
	// ext is a FHIR primitive's "_name" sibling: its id and extensions.
	ext any
	// t is the item's type; nil for JSON the model does not describe.
	t *typeInfo
}

func sysItem(v any, t *typeInfo) item { return item{v: v, t: t} }

func boolItem(b bool) item { return item{v: b, t: sysBoolean} }

func intItem(i int64) item { return item{v: i, t: sysInteger} }

func stringItem(s string) item { return item{v: s, t: sysString} }

// system returns it as a System value (bool, int64, string, decimal,
// temporal or quantity) with its System type. FHIR primitives convert to
// the System type of their value (code → String, instant → DateTime …);
// FHIR Quantity and its kin convert to Quantity. ok is false for anything
// else, including primitives that have only extensions.
func (it item) system() (any, *typeInfo, bool) {
	t := it.t
	switch {
	case t == nil:
		return inferSystem(it.v)
	case t.kind == kindSystem:
		if t == sysTypeInfo {
			return nil, nil, false
		}
		return it.v, t, true
	case t.kind == kindPrimitive:
		return primitiveValue(it.v, t.sys)
	}
	if m, ok := it.v.(map[string]any); ok && isQuantityType(t) {
		if q, ok := quantityFromJSON(m); ok {
			return q, sysQuantity, true
		}
	}
	return nil, nil, false
}

// plainString returns it as a string when its System type is String.
func (it item) plainString() (string, bool) {
	s, ok := it.v.(string)
	if !ok {
		return "", false
	}
	t := it.t
	return s, t == nil || t == sysString || (t.kind == kindPrimitive && t.sys == sysString)
}

func isQuantityType(t *typeInfo) bool {
	for ; t != nil; t = t.base {
		if t.name == "Quantity" && t.ns == "FHIR" {
			return true
		}
	}
	return false
}

// inferSystem types JSON the model does not describe by its shape.
func inferSystem(v any) (any, *typeInfo, bool) {
	switch x := v.(type) {
	case string:
		return x, sysString, true
	case bool:
		return x, sysBoolean, true
	case json.Number:
		if !strings.ContainsAny(string(x), ".eE") {
			if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
				return i, sysInteger, true
			}
		}
		if d, ok := parseDecimal(string(x)); ok {
			return d, sysDecimal, true
		}
	case float64:
		if d, ok := decimalFromFloat(x); ok {
			return d, sysDecimal, true
		}
	case int64:
		return x, sysInteger, true
	case int:
		return int64(x), sysInteger, true
	}
	return nil, nil, false
}

// primitiveValue converts the JSON value of a FHIR primitive whose values
// are of System type sys.
func primitiveValue(v any, sys *typeInfo) (any, *typeInfo, bool) {
	if v == nil {
		return nil, nil, false
	}
	switch sys {
	case sysBoolean:
		b, ok := v.(bool)
		return b, sysBoolean, ok
	case sysString:
		s, ok := v.(string)
		return s, sysString, ok
	case sysInteger:
		switch n := v.(type) {
		case json.Number:
			i, err := strconv.ParseInt(string(n), 10, 64)
			return i, sysInteger, err == nil
		case float64:
			return int64(n), sysInteger, n == float64(int64(n))
		}
		return inferSystem(v)
	case sysDecimal:
		d, ok := decimalOf(v)
		return d, sysDecimal, ok
	case sysDate, sysDateTime, sysTime:
		s, ok := v.(string)
		if !ok {
			return nil, nil, false
		}
		var t temporal
		switch sys {
		case sysDate:
			t, ok = parseDate(s)
		case sysDateTime:
			t, ok = parseDateTime(s)
		default:
			t, ok = parseTime(s)
		}
		if !ok {
			// Malformed dates still compare as text.
			return s, sysString, true
		}
		return t, sys, true
	}
	return inferSystem(v)
}

// public converts it to what Eval returns.
func (it item) public() Item {
	t := it.t
	switch {
	case t == nil:
		return Item{Value: it.v, ext: it.ext}
	case t.kind == kindSystem:
		return Item{Type: t.full(), Value: systemJSON(it.v)}
	case t.kind == kindResource && it.v == nil:
		// What resolve() returns without a Resolver: the type is known,
		// the content is not.
		return Item{Type: t.name, Value: map[string]any{"resourceType": t.name}}
	}
	return Item{Type: t.name, Value: it.v, ext: it.ext}
}

// full is the namespace-qualified name of a System type.
func (t *typeInfo) full() string {
	switch t {
	case sysBoolean:
		return "System.Boolean"
	case sysString:
		return "System.String"
	case sysInteger:
		return "System.Integer"
	case sysDecimal:
		return "System.Decimal"
	case sysDate:
		return "System.Date"
	case sysDateTime:
		return "System.DateTime"
	case sysTime:
		return "System.Time"
	case sysQuantity:
		return "System.Quantity"
	}
	return t.ns + "." + t.name
}

// systemJSON renders a System value as FHIR JSON.
func systemJSON(v any) any {
	switch x := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(x, 10))
	case decimal:
		return json.Number(x.String())
	case temporal:
		return x.String()
	case quantity:
		return x.toJSON()
	}
	return v
}
