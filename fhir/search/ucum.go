package search

import (
	"math"
	"strconv"
	"strings"
)

// This file converts UCUM unit codes to base units, enough for the units
// clinical quantities carry (mass, length, volume, time, amount of
// substance, pressure, international units) so that quantity search can
// compare 1 g with 1000 mg. Units it does not know, and units with an
// offset (Cel, [degF]), are searched by their code as written.

// ucumBase names the base dimensions in the order of a canonical code.
var ucumBase = [...]string{"m", "s", "g", "rad", "K", "C", "cd", "mol", "[IU]"}

type ucumDims [len(ucumBase)]int

type ucumAtom struct {
	factor float64
	dims   ucumDims
	metric bool // takes metric prefixes
}

func dim(i, e int) ucumDims { var d ucumDims; d[i] = e; return d }

// ucumAtoms is fixed data, never modified.
var ucumAtoms = func() map[string]ucumAtom {
	const m, s, g, rad, k, c, cd, mol, iu = 0, 1, 2, 3, 4, 5, 6, 7, 8
	pressure := ucumDims{m: -1, s: -2, g: 1}
	volume := dim(m, 3)
	return map[string]ucumAtom{
		"1": {1, ucumDims{}, false}, "%": {0.01, ucumDims{}, false}, "10*": {10, ucumDims{}, false},
		"10^": {10, ucumDims{}, false}, "[ppm]": {1e-6, ucumDims{}, false}, "[ppth]": {1e-3, ucumDims{}, false},
		"m": {1, dim(m, 1), true}, "s": {1, dim(s, 1), true}, "g": {1, dim(g, 1), true},
		"rad": {1, dim(rad, 1), true}, "K": {1, dim(k, 1), true}, "C": {1, dim(c, 1), true},
		"cd": {1, dim(cd, 1), true}, "mol": {1, dim(mol, 1), true}, "eq": {1, dim(mol, 1), true},
		"osm": {1, dim(mol, 1), true}, "[IU]": {1, dim(iu, 1), true}, "[iU]": {1, dim(iu, 1), true},
		"U": {1.0 / 60e6, ucumDims{mol: 1, s: -1}, true}, "kat": {1, ucumDims{mol: 1, s: -1}, true},
		"min": {60, dim(s, 1), false}, "h": {3600, dim(s, 1), false}, "d": {86400, dim(s, 1), false},
		"wk": {604800, dim(s, 1), false}, "mo": {2629800, dim(s, 1), false}, "a": {31557600, dim(s, 1), false},
		"L": {1e-3, volume, true}, "l": {1e-3, volume, true}, "t": {1e6, dim(g, 1), true},
		"Hz": {1, dim(s, -1), true}, "Pa": {1000, pressure, true}, "bar": {1e8, pressure, true},
		"m[Hg]": {133322387.415, pressure, true}, "m[H2O]": {9806650, pressure, true},
		"[in_i]": {0.0254, dim(m, 1), false}, "[ft_i]": {0.3048, dim(m, 1), false},
		"[yd_i]": {0.9144, dim(m, 1), false}, "[mi_i]": {1609.344, dim(m, 1), false},
		"[lb_av]": {453.59237, dim(g, 1), false}, "[oz_av]": {28.349523125, dim(g, 1), false},
		"[gr]": {0.06479891, dim(g, 1), false}, "cal": {4184, ucumDims{m: 2, s: -2, g: 1}, true},
		"J": {1000, ucumDims{m: 2, s: -2, g: 1}, true}, "W": {1000, ucumDims{m: 2, s: -3, g: 1}, true},
		"N": {1000, ucumDims{m: 1, s: -2, g: 1}, true}, "deg": {math.Pi / 180, dim(rad, 1), false},
	}
}()

// ucumPrefixes are the metric prefixes, longest first where one is a prefix
// of another (da before d).
var ucumPrefixes = []struct {
	sym    string
	factor float64
}{
	{"da", 1e1}, {"Y", 1e24}, {"Z", 1e21}, {"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9},
	{"M", 1e6}, {"k", 1e3}, {"h", 1e2}, {"d", 1e-1}, {"c", 1e-2}, {"m", 1e-3}, {"u", 1e-6},
	{"n", 1e-9}, {"p", 1e-12}, {"f", 1e-15}, {"a", 1e-18}, {"z", 1e-21}, {"y", 1e-24},
}

// ucumCanonical returns the factor that converts a value in unit code to
// base units, and the canonical code of those units ("g.m-3" for mg/dL).
func ucumCanonical(code string) (float64, string, bool) {
	if code == "" || len(code) > 64 {
		return 0, "", false
	}
	p := ucumParser{s: code}
	f, d, ok := p.term()
	if !ok || p.i != len(p.s) || f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, "", false
	}
	var parts []string
	for i, e := range d {
		switch {
		case e == 1:
			parts = append(parts, ucumBase[i])
		case e != 0:
			parts = append(parts, ucumBase[i]+strconv.Itoa(e))
		}
	}
	if len(parts) == 0 {
		return f, "1", true
	}
	return f, strings.Join(parts, "."), true
}

// ucumParser reads UCUM's grammar: term := ['/'] component (('.'|'/') component)*,
// component := annotation | '(' term ')' | [prefix] atom [exponent] | integer.
type ucumParser struct {
	s     string
	i     int
	depth int
}

func (p *ucumParser) term() (float64, ucumDims, bool) {
	f, d := 1.0, ucumDims{}
	op := byte('.')
	if p.i < len(p.s) && p.s[p.i] == '/' {
		op = '/'
		p.i++
	}
	for {
		cf, cd, ok := p.component()
		if !ok {
			return 0, d, false
		}
		if op == '/' {
			f /= cf
			for i := range d {
				d[i] -= cd[i]
			}
		} else {
			f *= cf
			for i := range d {
				d[i] += cd[i]
			}
		}
		if p.i >= len(p.s) || (p.s[p.i] != '.' && p.s[p.i] != '/') {
			return f, d, true
		}
		op = p.s[p.i]
		p.i++
	}
}

func (p *ucumParser) component() (float64, ucumDims, bool) {
	if p.i >= len(p.s) {
		return 0, ucumDims{}, false
	}
	switch p.s[p.i] {
	case '{':
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return 0, ucumDims{}, false
		}
		p.i += end + 1
		return 1, ucumDims{}, true
	case '(':
		if p.depth > 8 {
			return 0, ucumDims{}, false
		}
		p.i++
		p.depth++
		f, d, ok := p.term()
		p.depth--
		if !ok || p.i >= len(p.s) || p.s[p.i] != ')' {
			return 0, d, false
		}
		p.i++
		return f, d, true
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("./(){}", rune(p.s[p.i])) {
		p.i++
	}
	f, d, ok := ucumSimple(p.s[start:p.i])
	// An annotation may follow a unit: mL{total}.
	if ok && p.i < len(p.s) && p.s[p.i] == '{' {
		end := strings.IndexByte(p.s[p.i:], '}')
		if end < 0 {
			return 0, d, false
		}
		p.i += end + 1
	}
	return f, d, ok
}

// ucumSimple reads [prefix]atom[exponent] or a plain integer.
func ucumSimple(s string) (float64, ucumDims, bool) {
	if s == "" {
		return 0, ucumDims{}, false
	}
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return float64(n), ucumDims{}, true
	}
	// "10*3" and "10^3" are the atom 10* with the exponent 3.
	for _, ten := range []string{"10*", "10^"} {
		if rest, ok := strings.CutPrefix(s, ten); ok {
			e, err := strconv.Atoi(rest)
			if err != nil || e < -24 || e > 24 {
				return 0, ucumDims{}, false
			}
			return math.Pow10(e), ucumDims{}, true
		}
	}
	atom, exp := splitExponent(s)
	if a, ok := ucumAtoms[atom]; ok {
		return pow(a.factor, a.dims, exp)
	}
	for _, pre := range ucumPrefixes {
		if rest, ok := strings.CutPrefix(atom, pre.sym); ok {
			if a, ok := ucumAtoms[rest]; ok && a.metric {
				return pow(pre.factor*a.factor, a.dims, exp)
			}
		}
	}
	return 0, ucumDims{}, false
}

// splitExponent splits a trailing signed integer exponent: m2, s-1.
// Atoms ending in a digit are bracketed ([H2O]), so the split is safe.
func splitExponent(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i > 0 && (s[i-1] == '-' || s[i-1] == '+') && i < len(s) {
		i--
	}
	if i == len(s) || i == 0 {
		return s, 1
	}
	e, err := strconv.Atoi(s[i:])
	if err != nil || e < -9 || e > 9 {
		return s, 1
	}
	return s[:i], e
}

func pow(f float64, d ucumDims, e int) (float64, ucumDims, bool) {
	for i := range d {
		d[i] *= e
	}
	return math.Pow(f, float64(e)), d, true
}
