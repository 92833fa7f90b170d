package search

import (
	"encoding/json"
	"math"

	"github.com/hearth-fhir/hearth/fhir"
)

// UCUM is the system of UCUM units.
const UCUM = "http://unitsofmeasure.org"

// QuantityValue is a quantity search value: a number with an optional
// system and unit code. When the unit is a UCUM unit Hearth can convert,
// the number is converted to base units and Canonical is set, so that the
// search also finds 1 g when asked for 1000 mg.
type QuantityValue struct {
	Number    NumberValue
	System    string
	Code      string // the code, or the unit text when no system was given
	Canonical bool
}

func (QuantityValue) isValue() {}

// parseQuantity reads `[prefix]number`, `[prefix]number|system|code` or
// `[prefix]number||code`.
func parseQuantity(raw string) (Value, error) {
	parts := splitEscaped(raw, '|')
	if len(parts) != 1 && len(parts) != 3 {
		return nil, fhir.Errorf(fhir.KindInvalid, "%q is not a quantity (number|system|code)", raw)
	}
	p, s := cutPrefix(parts[0])
	if err := noRangePrefix(p, "quantity"); err != nil {
		return nil, err
	}
	n, ok := parseDecimal(p, s)
	if !ok {
		return nil, fhir.Errorf(fhir.KindInvalid, "%q is not a quantity: the number is missing", raw)
	}
	v := QuantityValue{Number: n}
	if len(parts) == 3 {
		v.System, v.Code = unescape(parts[1]), unescape(parts[2])
	}
	if v.System == UCUM && v.Code != "" {
		if factor, unit, ok := ucumCanonical(v.Code); ok {
			v.Canonical, v.Code = true, unit
			n.Value, n.Low, n.High = n.Value*factor, n.Low*factor, n.High*factor
			if n.Low > n.High {
				n.Low, n.High = n.High, n.Low
			}
			v.Number = n
		}
	}
	return v, nil
}

// quantityTypes are the data types that are Quantities (or, for Money,
// index like one, with the currency as the code).
var quantityTypes = map[string]bool{
	"Quantity": true, "SimpleQuantity": true, "Age": true, "Count": true,
	"Distance": true, "Duration": true, "MoneyQuantity": true,
}

// addQuantities indexes a Quantity (and its profiles) or Money: as written
// with its code, under its unit text when that differs, and converted to
// UCUM base units when possible. A Range indexes its bounds.
func (ix *Index) addQuantities(param, typ string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	switch {
	case typ == "Range":
		for _, k := range []string{"low", "high"} {
			ix.addQuantities(param, "Quantity", m[k])
		}
		return
	case typ == "Money":
		if f, ok := number(m["value"]); ok {
			ix.Quantities = append(ix.Quantities, QuantityRow{Param: param, Value: f,
				System: "urn:iso:std:iso:4217", Code: str(m["currency"])})
		}
		return
	case !quantityTypes[typ]:
		return
	}
	f, ok := number(m["value"])
	if !ok {
		return
	}
	system, code, unit := str(m["system"]), str(m["code"]), str(m["unit"])
	ix.Quantities = append(ix.Quantities, QuantityRow{Param: param, Value: f, System: system, Code: code})
	if unit != "" && unit != code {
		ix.Quantities = append(ix.Quantities, QuantityRow{Param: param, Value: f, Code: unit})
	}
	if system == UCUM && code != "" {
		if factor, canon, ok := ucumCanonical(code); ok {
			ix.Quantities = append(ix.Quantities, QuantityRow{Param: param, Value: f * factor,
				System: UCUM, Code: canon, Canonical: true})
		}
	}
}

// number reads a JSON number as a float.
func number(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil && !math.IsInf(f, 0)
}
