package fhirpath

import (
	"encoding/json"
	"strings"
)

// equalItems is FHIRPath `=` on two items. known is false when the answer
// is empty: dates of different precision, quantities of different kinds.
func equalItems(a, b item) (eq, known bool) {
	// Strings are most of what expressions compare (system = 'http://…'):
	// compare them without boxing.
	if x, ok := a.plainString(); ok {
		if y, ok := b.plainString(); ok {
			return x == y, true
		}
	}
	av, _, aok := a.system()
	bv, _, bok := b.system()
	if aok && bok {
		return equalValues(av, bv)
	}
	if aok || bok {
		return false, true
	}
	am, ok1 := a.v.(map[string]any)
	bm, ok2 := b.v.(map[string]any)
	if ok1 && ok2 {
		return jsonEqual(am, bm, false), true
	}
	if a.v == nil && b.v == nil && a.t != nil && a.t == b.t && a.t.kind == kindResource {
		return true, true
	}
	return false, true
}

func equalValues(a, b any) (eq, known bool) {
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		return ok && x == y, true
	case string:
		switch y := b.(type) {
		case string:
			return x == y, true
		case temporal:
			if t, ok := parseLike(x, y); ok {
				c, known := compareTemporal(t, y)
				return c == 0, known
			}
		}
		return false, true
	case int64, decimal:
		if y, ok := numeric(b); ok {
			xd, _ := numeric(x)
			return xd.cmp(y) == 0, true
		}
		return false, true
	case temporal:
		switch y := b.(type) {
		case temporal:
			if (x.kind == kindTimeOfDay) != (y.kind == kindTimeOfDay) {
				return false, true
			}
			c, known := compareTemporal(x, y)
			return c == 0, known
		case string:
			return equalValues(b, a)
		}
		return false, true
	case quantity:
		y, ok := b.(quantity)
		if !ok {
			return false, true
		}
		c, known := compareQuantity(x, y)
		return c == 0, known
	}
	return false, true
}

// parseLike reads s as the same kind of date or time as like, so that an
// untyped string can be compared with a date.
func parseLike(s string, like temporal) (temporal, bool) {
	switch like.kind {
	case kindDate:
		if t, ok := parseDate(s); ok {
			return t, true
		}
		return parseDateTime(s)
	case kindDateTime:
		return parseDateTime(s)
	}
	return parseTime(s)
}

// numeric returns an Integer or Decimal as a decimal.
func numeric(v any) (decimal, bool) {
	switch x := v.(type) {
	case int64:
		return decimalFromInt(x), true
	case decimal:
		return x, true
	}
	return decimal{}, false
}

// jsonEqual compares JSON trees; equiv compares strings the way `~` does.
func jsonEqual(a, b any, equiv bool) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w, equiv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i], equiv) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		if equiv {
			return ok && normalizeSpace(x) == normalizeSpace(y)
		}
		return ok && x == y
	case json.Number, float64:
		dx, ok1 := decimalOf(x)
		dy, ok2 := decimalOf(b)
		return ok1 && ok2 && dx.cmp(dy) == 0
	}
	return a == b
}

// equalCollections is `=` on collections: same size, equal item by item.
func equalCollections(l, r []item) (eq, known bool) {
	if len(l) == 0 || len(r) == 0 {
		return false, false
	}
	if len(l) != len(r) {
		return false, true
	}
	allKnown := true
	for i := range l {
		eq, known := equalItems(l[i], r[i])
		if !known {
			allKnown = false
		} else if !eq {
			return false, true
		}
	}
	return true, allKnown
}

// equivalentItems is FHIRPath `~`: never empty, case- and
// whitespace-insensitive for strings, and at the coarser precision for
// decimals, dates and quantities.
func equivalentItems(a, b item) bool {
	av, _, aok := a.system()
	bv, _, bok := b.system()
	if aok && bok {
		switch x := av.(type) {
		case string:
			y, ok := bv.(string)
			return ok && normalizeSpace(x) == normalizeSpace(y)
		case int64, decimal:
			y, ok := numeric(bv)
			xd, _ := numeric(x)
			return ok && equivalentDecimal(xd, y)
		case temporal:
			y, ok := bv.(temporal)
			if !ok || !samePrecision(x, y) || (x.kind == kindTimeOfDay) != (y.kind == kindTimeOfDay) {
				return false
			}
			c, known := compareTemporal(x, y)
			return known && c == 0
		case quantity:
			y, ok := bv.(quantity)
			return ok && equivalentQuantity(x, y)
		}
		eq, known := equalValues(av, bv)
		return known && eq
	}
	if aok || bok {
		return false
	}
	return jsonEqual(a.v, b.v, true)
}

// equivalentDecimal compares at the precision of the less precise value.
func equivalentDecimal(a, b decimal) bool {
	s := min(a.scale, b.scale)
	return a.round(s, roundHalfUp).cmp(b.round(s, roundHalfUp)) == 0
}

func normalizeSpace(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// equivalentCollections is `~` on collections: the same items in any order.
func equivalentCollections(l, r []item) bool {
	if len(l) != len(r) {
		return false
	}
	used := make([]bool, len(r))
outer:
	for _, a := range l {
		for j, b := range r {
			if !used[j] && equivalentItems(a, b) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// containsItem reports whether col holds an item equal to it.
func containsItem(col []item, it item) bool {
	for _, x := range col {
		if eq, known := equalItems(x, it); eq && known {
			return true
		}
	}
	return false
}
