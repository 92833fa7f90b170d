package fhirpath

import (
	"strconv"
	"strings"
)

// Conversion functions (http://hl7.org/fhirpath/N1/#conversion).

// fnIif evaluates only the branch it returns, so `iif(x.exists(), x, 1/0)`
// is safe; criterion and branches see the input item as $this.
func fnIif(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
	if len(in) > 1 {
		return out, evalError("iif() needs at most one input item, found %d", len(in))
	}
	saveThis := c.this
	defer func() { c.this = saveThis }()
	if len(in) == 1 {
		c.this = in
	}
	crit, err := c.evalArg(call, 0)
	defer c.put(crit)
	if err != nil {
		return out, err
	}
	cond := false
	switch len(crit) {
	case 0:
	case 1:
		v, _, _ := crit[0].system()
		b, ok := v.(bool)
		if !ok {
			return out, evalError("iif() criterion must be a boolean, found %s", typeLabel(crit[0]))
		}
		cond = b
	default:
		return out, evalError("iif() criterion must be a single boolean, found %d items", len(crit))
	}
	switch {
	case cond:
		return call.args[1].eval(c, c.this, out)
	case len(call.args) == 3:
		return call.args[2].eval(c, c.this, out)
	}
	return out, nil
}

// converter converts one System value; ok is false when it cannot.
type converter func(v any) (item, bool)

// convert builds toX() (test false) and convertsToX() (test true).
func convert(name string, f converter, test bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(_ *evalCtx, in []item, _ *callNode, out []item) ([]item, error) {
		it, ok, err := singleInput(in, name)
		if err != nil || !ok {
			return out, err
		}
		v, _, isPrim := it.system()
		var res item
		if isPrim {
			res, ok = f(v)
		} else {
			ok = false
		}
		if test {
			return append(out, boolItem(ok)), nil
		}
		if !ok {
			return out, nil
		}
		return append(out, res), nil
	}
}

func toBoolean(v any) (item, bool) {
	switch x := v.(type) {
	case bool:
		return boolItem(x), true
	case int64:
		if x == 0 || x == 1 {
			return boolItem(x == 1), true
		}
	case decimal:
		switch {
		case x.cmp(decimalFromInt(1)) == 0:
			return boolItem(true), true
		case x.sign() == 0:
			return boolItem(false), true
		}
	case string:
		switch strings.ToLower(x) {
		case "true", "t", "yes", "y", "1", "1.0":
			return boolItem(true), true
		case "false", "f", "no", "n", "0", "0.0":
			return boolItem(false), true
		}
	}
	return item{}, false
}

func toInteger(v any) (item, bool) {
	switch x := v.(type) {
	case int64:
		return intItem(x), true
	case bool:
		if x {
			return intItem(1), true
		}
		return intItem(0), true
	case string:
		s := strings.TrimPrefix(strings.TrimPrefix(x, "+"), "-")
		if s == "" || !allDigits(s) {
			return item{}, false
		}
		i, err := strconv.ParseInt(x, 10, 64)
		return intItem(i), err == nil
	}
	return item{}, false
}

func toDecimal(v any) (item, bool) {
	switch x := v.(type) {
	case int64:
		return sysItem(decimalFromInt(x), sysDecimal), true
	case decimal:
		return sysItem(x, sysDecimal), true
	case bool:
		if x {
			return sysItem(decimal{u: decimalFromInt(10).u, scale: 1}, sysDecimal), true
		}
		return sysItem(decimal{u: decimalFromInt(0).u, scale: 1}, sysDecimal), true
	case string:
		if strings.ContainsAny(x, "eE") {
			return item{}, false
		}
		d, ok := parseDecimal(x)
		return sysItem(d, sysDecimal), ok
	}
	return item{}, false
}

func toStringValue(v any) (item, bool) {
	switch x := v.(type) {
	case string:
		return stringItem(x), true
	case bool:
		return stringItem(strconv.FormatBool(x)), true
	case int64:
		return stringItem(strconv.FormatInt(x, 10)), true
	case decimal:
		return stringItem(x.String()), true
	case temporal:
		return stringItem(x.String()), true
	case quantity:
		return stringItem(x.String()), true
	}
	return item{}, false
}

func toDate(v any) (item, bool) {
	switch x := v.(type) {
	case temporal:
		if x.kind == kindTimeOfDay {
			return item{}, false
		}
		x.kind, x.hasTZ, x.tz = kindDate, false, 0
		x.prec = min(x.prec, precDay)
		x.hour, x.minute, x.sec, x.milli = 0, 0, 0, 0
		return sysItem(x, sysDate), true
	case string:
		if t, ok := parseDate(x); ok {
			return sysItem(t, sysDate), true
		}
		if t, ok := parseDateTime(x); ok {
			return toDate(t)
		}
	}
	return item{}, false
}

func toDateTime(v any) (item, bool) {
	switch x := v.(type) {
	case temporal:
		if x.kind == kindTimeOfDay {
			return item{}, false
		}
		x.kind = kindDateTime
		return sysItem(x, sysDateTime), true
	case string:
		if t, ok := parseDateTime(x); ok {
			return sysItem(t, sysDateTime), true
		}
	}
	return item{}, false
}

func toTime(v any) (item, bool) {
	switch x := v.(type) {
	case temporal:
		if x.kind == kindTimeOfDay {
			return sysItem(x, sysTime), true
		}
	case string:
		if t, ok := parseTime(x); ok {
			return sysItem(t, sysTime), true
		}
	}
	return item{}, false
}

// fnToQuantity builds toQuantity([unit]) and convertsToQuantity([unit]).
func fnToQuantity(test bool) func(*evalCtx, []item, *callNode, []item) ([]item, error) {
	return func(c *evalCtx, in []item, call *callNode, out []item) ([]item, error) {
		it, ok, err := singleInput(in, "toQuantity")
		if err != nil || !ok {
			return out, err
		}
		unit, hasUnit := "", false
		if len(call.args) == 1 {
			if unit, hasUnit, err = c.stringArg(call, 0); err != nil {
				return out, err
			}
		}
		v, _, _ := it.system()
		q, ok := toQuantity(v)
		if ok && hasUnit {
			q, ok = q.convertTo(unit)
		}
		if test {
			return append(out, boolItem(ok)), nil
		}
		if !ok {
			return out, nil
		}
		return append(out, sysItem(q, sysQuantity)), nil
	}
}

func toQuantity(v any) (quantity, bool) {
	switch x := v.(type) {
	case quantity:
		return x, true
	case int64:
		return quantity{value: decimalFromInt(x), unit: "1"}, true
	case decimal:
		return quantity{value: x, unit: "1"}, true
	case bool:
		d := decimal{u: decimalFromInt(0).u, scale: 1}
		if x {
			d = decimal{u: decimalFromInt(10).u, scale: 1}
		}
		return quantity{value: d, unit: "1"}, true
	case string:
		return parseQuantity(x)
	}
	return quantity{}, false
}

// parseQuantity reads "4.5 'mg'", "1 day" or a bare number.
func parseQuantity(s string) (quantity, bool) {
	num, unit, hasUnit := strings.Cut(strings.TrimSpace(s), " ")
	d, ok := parseDecimal(num)
	if !ok || strings.ContainsAny(num, "eE") {
		return quantity{}, false
	}
	if !hasUnit {
		return quantity{value: d, unit: "1"}, true
	}
	unit = strings.TrimSpace(unit)
	if len(unit) >= 2 && unit[0] == '\'' && unit[len(unit)-1] == '\'' {
		return quantity{value: d, unit: unit[1 : len(unit)-1]}, true
	}
	if _, ok := calendarWord(unit); ok {
		return quantity{value: d, unit: unit}, true
	}
	return quantity{}, false
}
