package search

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir"
)

// NumberValue is a number search value with the range its precision
// implies: 100 stands for [99.5, 100.5), 100.0 for [99.95, 100.05) and 1e2
// for [50, 150). eq and ne use the range; gt, lt, ge and le compare with
// Value itself; ap allows 10% of Value either side.
type NumberValue struct {
	Prefix Prefix
	Value  float64
	Low    float64 // inclusive
	High   float64 // exclusive
}

func (NumberValue) isValue() {}

// parseNumber reads a number search value.
func parseNumber(raw string) (Value, error) {
	p, s := cutPrefix(raw)
	if err := noRangePrefix(p, "number"); err != nil {
		return nil, err
	}
	v, ok := parseDecimal(p, s)
	if !ok {
		return nil, fhir.Errorf(fhir.KindInvalid, "%q is not a number", raw)
	}
	return v, nil
}

// parseDecimal reads a decimal with its implicit precision.
func parseDecimal(p Prefix, s string) (NumberValue, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || strings.ContainsAny(s, "xXpP_") ||
		strings.HasPrefix(strings.TrimLeft(s, "+-"), "I") || strings.HasPrefix(strings.TrimLeft(s, "+-"), "i") {
		return NumberValue{}, false
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err = strconv.Atoi(s[i+1:])
		if err != nil {
			return NumberValue{}, false
		}
		mant = s[:i]
	}
	places := 0
	if _, frac, ok := strings.Cut(mant, "."); ok {
		places = len(frac)
	}
	half := math.Pow10(exp-places) / 2
	v := NumberValue{Prefix: p, Value: f, Low: f - half, High: f + half}
	if p == PrefixAP {
		d := math.Abs(f) / 10
		v.Low, v.High = f-d, f+d
	}
	return v, true
}

// addNumbers indexes an integer or decimal.
func (ix *Index) addNumbers(param string, v any) {
	if n, ok := v.(json.Number); ok {
		if f, err := n.Float64(); err == nil && !math.IsInf(f, 0) {
			ix.Numbers = append(ix.Numbers, NumberRow{Param: param, Value: f})
		}
	}
}
