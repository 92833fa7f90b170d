package fhirpath

import (
	"encoding/json"
	"math/big"
	"strings"
)

// ucumSystem is the code system of UCUM units in FHIR Quantity.
const ucumSystem = "http://unitsofmeasure.org"

// quantity is a System Quantity: a decimal and a unit, either a UCUM code
// or one of FHIRPath's calendar keywords ("week", "days" …).
type quantity struct {
	value decimal
	unit  string
}

func (q quantity) String() string {
	if _, ok := calendarWord(q.unit); ok {
		return q.value.String() + " " + q.unit
	}
	return q.value.String() + " '" + q.unit + "'"
}

// quantityFromJSON reads a FHIR Quantity (or Age, Duration …). Its UCUM
// code is preferred to the display unit; ok is false without a value.
func quantityFromJSON(m map[string]any) (quantity, bool) {
	d, ok := decimalOf(m["value"])
	if !ok {
		return quantity{}, false
	}
	unit, _ := m["unit"].(string)
	if code, ok := m["code"].(string); ok {
		if sys, _ := m["system"].(string); sys == ucumSystem || sys == "" {
			unit = code
		}
	}
	if unit == "" {
		unit = "1"
	}
	return quantity{value: d, unit: unit}, true
}

// toJSON renders q as FHIR Quantity JSON.
func (q quantity) toJSON() map[string]any {
	m := map[string]any{"value": json.Number(q.value.String()), "unit": q.unit}
	code := q.unit
	if w, ok := calendarWord(q.unit); ok {
		if strings.HasPrefix(w, "cal:") {
			return m // calendar years and months have no UCUM code
		}
		code = w
	}
	m["system"], m["code"] = ucumSystem, code
	return m
}

// decimalOf reads a JSON number in any of the forms a decoder produces.
func decimalOf(v any) (decimal, bool) {
	switch n := v.(type) {
	case json.Number:
		return parseDecimal(string(n))
	case float64:
		return decimalFromFloat(n)
	case int64:
		return decimalFromInt(n), true
	case int:
		return decimalFromInt(int64(n)), true
	case decimal:
		return n, true
	}
	return decimal{}, false
}

// canonical converts q to base units.
func (q quantity) canonical() (*big.Rat, dims, bool) {
	u, ok := parseUnit(q.unit)
	if !ok {
		return nil, dims{}, false
	}
	r := new(big.Rat).SetFrac(q.value.u, pow10(q.value.scale))
	return r.Mul(r, u.factor), u.dims, true
}

// sameUnit reports whether a and b use the same unit, counting calendar
// keywords and their UCUM codes (week and 'wk') as the same.
func sameUnit(a, b string) bool {
	if a == b {
		return true
	}
	if w, ok := calendarWord(a); ok {
		a = w
	}
	if w, ok := calendarWord(b); ok {
		b = w
	}
	return a == b
}

// compareQuantity orders a and b after converting them to common units.
// ok is false when the units are unknown or of different dimensions.
func compareQuantity(a, b quantity) (int, bool) {
	if sameUnit(a.unit, b.unit) {
		return a.value.cmp(b.value), true
	}
	ra, da, ok1 := a.canonical()
	rb, db, ok2 := b.canonical()
	if !ok1 || !ok2 || da != db {
		return 0, false
	}
	return ra.Cmp(rb), true
}

// equivalentQuantity compares a and b at the precision of the less precise.
func equivalentQuantity(a, b quantity) bool {
	if sameUnit(a.unit, b.unit) {
		return equivalentDecimal(a.value, b.value)
	}
	ra, da, ok1 := a.canonical()
	rb, db, ok2 := b.canonical()
	if !ok1 || !ok2 || da != db {
		return false
	}
	// Express both in base units with the digits their units add, then
	// round both to the coarser.
	sa, sb := canonicalScale(a), canonicalScale(b)
	s := min(sa, sb)
	return ratRound(ra, s).Cmp(ratRound(rb, s)) == 0
}

// canonicalScale is the number of decimal places q has in base units.
func canonicalScale(q quantity) int32 {
	u, _ := parseUnit(q.unit)
	s := q.value.scale
	// Each factor of ten the unit divides by adds a decimal place.
	f := new(big.Rat).Set(u.factor)
	ten := big.NewRat(10, 1)
	one := big.NewRat(1, 1)
	for i := 0; i < 30 && f.Cmp(one) < 0; i++ {
		f.Mul(f, ten)
		s++
	}
	return s
}

func ratRound(r *big.Rat, scale int32) *big.Int {
	n := new(big.Int).Mul(r.Num(), pow10(scale))
	d := decimal{u: new(big.Int).Quo(n.Mul(n, big.NewInt(10)), r.Denom()), scale: scale + 1}
	return d.round(scale, roundHalfUp).u
}

// convertTo expresses q in unit, for adding and subtracting.
func (q quantity) convertTo(unit string) (quantity, bool) {
	if sameUnit(q.unit, unit) {
		return quantity{value: q.value, unit: unit}, true
	}
	r, d1, ok1 := q.canonical()
	u, ok2 := parseUnit(unit)
	if !ok1 || !ok2 || d1 != u.dims {
		return quantity{}, false
	}
	r.Quo(r, u.factor)
	scale := max(q.value.scale, divisionScale)
	n := new(big.Int).Mul(r.Num(), pow10(scale+1))
	v := decimal{u: n.Quo(n, r.Denom()), scale: scale + 1}
	return quantity{value: v.round(scale, roundHalfUp).trimZeros(), unit: unit}, true
}

// productUnit and quotientUnit name the unit of a product or quotient.
func productUnit(a, b string) string {
	a, b = ucumCode(a), ucumCode(b)
	switch {
	case a == "1":
		return b
	case b == "1":
		return a
	}
	return wrapUnit(a) + "." + wrapUnit(b)
}

func quotientUnit(a, b string) string {
	a, b = ucumCode(a), ucumCode(b)
	switch {
	case a == b:
		return "1"
	case b == "1":
		return a
	}
	return wrapUnit(a) + "/" + wrapUnit(b)
}

func ucumCode(u string) string {
	if w, ok := calendarWord(u); ok && !strings.HasPrefix(w, "cal:") {
		return w
	}
	return u
}

func wrapUnit(u string) string {
	if strings.ContainsAny(u, "./") {
		return "(" + u + ")"
	}
	return u
}
