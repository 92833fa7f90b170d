package fhirpath

import (
	"math/big"
	"strconv"
	"strings"
)

// This file holds a small part of UCUM (https://ucum.org): enough units to
// compare and convert the quantities clinical data carries (mass, length,
// volume, time, pressure, amount of substance) exactly. Units it does not
// know still compare when both sides use the same code.

// dims are the exponents of the base dimensions: length, time, mass,
// angle, temperature, charge, luminosity, amount, and two arbitrary
// dimensions for international units and calendar months.
type dims [10]int8

const (
	dimLength = iota
	dimTime
	dimMass
	dimAngle
	dimTemp
	dimCharge
	dimLight
	dimAmount
	dimIU
	dimCalendar
)

// unitAtom is one UCUM atom: its size in base units and whether metric
// prefixes apply to it.
type unitAtom struct {
	factor string // decimal or a/b
	dims   dims
	metric bool
}

func d1(i int) dims { var d dims; d[i] = 1; return d }

var (
	dimsPressure = dims{dimLength: -1, dimTime: -2, dimMass: 1}
	dimsVolume   = dims{dimLength: 3}
)

// ucumAtoms is fixed data, never modified.
var ucumAtoms = map[string]unitAtom{
	"1": {"1", dims{}, false}, "%": {"1/100", dims{}, false},
	"[ppm]": {"1/1000000", dims{}, false}, "[ppb]": {"1/1000000000", dims{}, false},
	"m": {"1", d1(dimLength), true}, "s": {"1", d1(dimTime), true}, "g": {"1", d1(dimMass), true},
	"rad": {"1", d1(dimAngle), true}, "K": {"1", d1(dimTemp), true}, "C": {"1", d1(dimCharge), true},
	"cd": {"1", d1(dimLight), true}, "mol": {"1", d1(dimAmount), true},
	"eq": {"1", d1(dimAmount), true}, "osm": {"1", d1(dimAmount), true},
	"[IU]": {"1", d1(dimIU), true}, "[iU]": {"1", d1(dimIU), true},
	"U":   {"1/60000000", dims{dimAmount: 1, dimTime: -1}, true}, // µmol/min
	"kat": {"1", dims{dimAmount: 1, dimTime: -1}, true},
	"min": {"60", d1(dimTime), false}, "h": {"3600", d1(dimTime), false}, "d": {"86400", d1(dimTime), false},
	"wk": {"604800", d1(dimTime), false}, "mo": {"2629800", d1(dimTime), false}, "a": {"31557600", d1(dimTime), false},
	"L": {"1/1000", dimsVolume, true}, "l": {"1/1000", dimsVolume, true},
	"t":      {"1000000", d1(dimMass), true},
	"Hz":     {"1", dims{dimTime: -1}, true},
	"N":      {"1000", dims{dimLength: 1, dimTime: -2, dimMass: 1}, true},
	"Pa":     {"1000", dimsPressure, true},
	"bar":    {"100000000", dimsPressure, true},
	"J":      {"1000", dims{dimLength: 2, dimTime: -2, dimMass: 1}, true},
	"W":      {"1000", dims{dimLength: 2, dimTime: -3, dimMass: 1}, true},
	"cal":    {"4184", dims{dimLength: 2, dimTime: -2, dimMass: 1}, true},
	"m[Hg]":  {"133322387.415", dimsPressure, true},
	"m[H2O]": {"9806650", dimsPressure, true},
	"[in_i]": {"0.0254", d1(dimLength), false}, "[ft_i]": {"0.3048", d1(dimLength), false},
	"[yd_i]": {"0.9144", d1(dimLength), false}, "[mi_i]": {"1609.344", d1(dimLength), false},
	"[lb_av]": {"453.59237", d1(dimMass), false}, "[oz_av]": {"28.349523125", d1(dimMass), false},
	"[gr]": {"0.06479891", d1(dimMass), false},
	"deg":  {"3.14159265358979323846/180", d1(dimAngle), false},
	// Calendar years and months are not UCUM's averages: they compare only
	// with each other.
	"cal:year": {"12", d1(dimCalendar), false}, "cal:month": {"1", d1(dimCalendar), false},
}

var ucumPrefixes = map[string]string{
	"Y": "1e24", "Z": "1e21", "E": "1e18", "P": "1e15", "T": "1e12", "G": "1e9", "M": "1e6",
	"k": "1e3", "h": "1e2", "da": "1e1", "d": "1e-1", "c": "1e-2", "m": "1e-3", "u": "1e-6",
	"n": "1e-9", "p": "1e-12", "f": "1e-15", "a": "1e-18", "z": "1e-21", "y": "1e-24",
}

// calendarWords maps FHIRPath's calendar duration keywords to UCUM.
func calendarWord(unit string) (string, bool) {
	switch unit {
	case "year", "years":
		return "cal:year", true
	case "month", "months":
		return "cal:month", true
	case "week", "weeks":
		return "wk", true
	case "day", "days":
		return "d", true
	case "hour", "hours":
		return "h", true
	case "minute", "minutes":
		return "min", true
	case "second", "seconds":
		return "s", true
	case "millisecond", "milliseconds":
		return "ms", true
	}
	return "", false
}

// unitScale is a parsed unit: value × factor is the amount in base units.
type unitScale struct {
	factor *big.Rat
	dims   dims
}

// parseUnit reads a UCUM unit expression such as "mg", "m2", "g/m",
// "mm[Hg]", "10*3/uL" or "kg.m-2"; ok is false for what it does not know.
func parseUnit(unit string) (unitScale, bool) {
	if w, ok := calendarWord(unit); ok {
		unit = w
	}
	if unit == "" {
		unit = "1"
	}
	p := unitParser{s: unit}
	u := unitScale{factor: big.NewRat(1, 1)}
	if strings.HasPrefix(p.s, "/") {
		// "/min" is 1/min.
		p.s = "1" + p.s
	}
	if !p.term(&u, 1) || p.pos != len(p.s) {
		return unitScale{}, false
	}
	return u, true
}

type unitParser struct {
	s   string
	pos int
}

// term multiplies u by the components of a term, each raised to sign.
func (p *unitParser) term(u *unitScale, sign int) bool {
	s := sign
	for {
		if !p.component(u, s) {
			return false
		}
		if p.pos >= len(p.s) || p.s[p.pos] == ')' {
			return true
		}
		switch p.s[p.pos] {
		case '.':
			s = sign
		case '/':
			s = -sign
		default:
			return false
		}
		p.pos++
	}
}

func (p *unitParser) component(u *unitScale, sign int) bool {
	if p.pos >= len(p.s) {
		return false
	}
	if p.s[p.pos] == '(' {
		p.pos++
		if !p.term(u, sign) || p.pos >= len(p.s) || p.s[p.pos] != ')' {
			return false
		}
		p.pos++
		return true
	}
	start := p.pos
	depth := 0
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if depth == 0 && (c == '.' || c == '/' || c == '(' || c == ')') {
			break
		}
		switch c {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		}
		p.pos++
	}
	sym := p.s[start:p.pos]
	// Annotations ({score}, mg{total}) do not change the unit.
	if i := strings.IndexByte(sym, '{'); i >= 0 {
		if !strings.HasSuffix(sym, "}") {
			return false
		}
		sym = sym[:i]
		if sym == "" {
			sym = "1"
		}
	}
	if allDigits(sym) && sym != "" {
		n, _ := new(big.Rat).SetString(sym)
		if n.Sign() == 0 || len(sym) > 30 {
			return false // "/0" divides by zero; long factors are noise
		}
		mulPow(u.factor, n, sign)
		return true
	}
	exp := 1
	if i := exponentStart(sym); i > 0 && i < len(sym) {
		e, err := strconv.Atoi(sym[i:])
		if err != nil || e == 0 || e > 9 || e < -9 {
			return false
		}
		exp, sym = e, sym[:i]
	}
	var f *big.Rat
	var d dims
	switch {
	case sym == "10*" || sym == "10^":
		f = big.NewRat(10, 1)
	default:
		a, ok := lookupAtom(sym)
		if !ok {
			return false
		}
		f, d = a.factor, a.dims
	}
	for i := 0; i < abs(exp); i++ {
		mulPow(u.factor, f, sign*sgn(exp))
		for k := range d {
			u.dims[k] += d[k] * int8(sign*sgn(exp))
		}
	}
	return true
}

// exponentStart finds where a trailing [+-]digits exponent begins.
func exponentStart(sym string) int {
	i := len(sym)
	for i > 0 && isDigit(sym[i-1]) {
		i--
	}
	if i == len(sym) {
		return -1
	}
	if i > 0 && (sym[i-1] == '-' || sym[i-1] == '+') {
		i--
	}
	return i
}

type atomScale struct {
	factor *big.Rat
	dims   dims
}

func lookupAtom(sym string) (atomScale, bool) {
	if a, ok := ucumAtoms[sym]; ok {
		return atomScale{ratOf(a.factor), a.dims}, true
	}
	for _, n := range []int{2, 1} {
		if len(sym) <= n {
			continue
		}
		pf, ok := ucumPrefixes[sym[:n]]
		if !ok {
			continue
		}
		if a, ok := ucumAtoms[sym[n:]]; ok && a.metric {
			f := ratOf(a.factor)
			return atomScale{f.Mul(f, ratOf(pf)), a.dims}, true
		}
	}
	return atomScale{}, false
}

// ratOf reads "0.0254", "1/60000000" or "1e-3" exactly.
func ratOf(s string) *big.Rat {
	if num, den, ok := strings.Cut(s, "/"); ok {
		r := ratOf(num)
		return r.Quo(r, ratOf(den))
	}
	r, _ := new(big.Rat).SetString(s)
	return r
}

func mulPow(acc, f *big.Rat, sign int) {
	if sign > 0 {
		acc.Mul(acc, f)
	} else {
		acc.Quo(acc, f)
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func sgn(i int) int {
	if i < 0 {
		return -1
	}
	return 1
}
