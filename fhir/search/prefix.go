package search

import "github.com/hearth-fhir/hearth/fhir"

// Prefix is the comparator in front of a date, number or quantity value.
type Prefix string

// The R4 prefixes; a value without one is PrefixEQ.
const (
	PrefixEQ Prefix = "eq"
	PrefixNE Prefix = "ne"
	PrefixGT Prefix = "gt"
	PrefixLT Prefix = "lt"
	PrefixGE Prefix = "ge"
	PrefixLE Prefix = "le"
	PrefixSA Prefix = "sa" // starts after
	PrefixEB Prefix = "eb" // ends before
	PrefixAP Prefix = "ap" // approximately
)

// cutPrefix splits a leading prefix from a value.
func cutPrefix(raw string) (Prefix, string) {
	if len(raw) >= 2 {
		switch p := Prefix(raw[:2]); p {
		case PrefixEQ, PrefixNE, PrefixGT, PrefixLT, PrefixGE, PrefixLE, PrefixSA, PrefixEB, PrefixAP:
			return p, raw[2:]
		}
	}
	return PrefixEQ, raw
}

// noRangePrefix refuses sa and eb, which the specification defines for
// ranges (dates) only.
func noRangePrefix(p Prefix, what string) error {
	if p == PrefixSA || p == PrefixEB {
		return fhir.Errorf(fhir.KindInvalid, "prefix %q does not apply to %s values", p, what)
	}
	return nil
}
