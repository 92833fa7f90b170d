package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// StringValue is a string search value. Value is normalised; Raw is as
// written, for :exact.
type StringValue struct {
	Value string
	Raw   string
}

func (StringValue) isValue() {}

// maxStringRunes bounds the normalised value that is indexed: B-tree
// entries have a size limit (about 2.7 kB in PostgreSQL), and a prefix
// longer than this is rare enough to match on its first part only.
const maxStringRunes = 500

// Normalize folds a string for the default string match, which the
// specification wants case- and accent-insensitive: it decomposes it (NFKD),
// drops combining marks, lower-cases it and collapses runs of white space.
// "Ångström  Müller" becomes "angstrom muller".
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, n := false, 0
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
			n++
		}
		if n >= maxStringRunes {
			// Cut here; a cut after a space would leave it trailing.
			return strings.TrimSuffix(b.String(), " ")
		}
		b.WriteRune(unicode.ToLower(r))
		n++
	}
	return b.String()
}

// PrefixUpper is the exclusive upper bound of the strings that start with
// prefix in byte order: prefix followed by the highest code point. Both
// stores compare text byte by byte (PostgreSQL through COLLATE "C"), so
// value >= prefix AND value < PrefixUpper(prefix) is an index range scan.
func PrefixUpper(prefix string) string {
	return prefix + string(utf8.MaxRune)
}

// parseString reads a string search value.
func parseString(raw string) (Value, error) {
	return StringValue{Value: Normalize(raw), Raw: raw}, nil
}

// addStrings indexes the string parts of an element: a primitive as it is,
// a HumanName or Address by each of its parts, as the R4 search page lists.
func (ix *Index) addStrings(param, typ string, v any) {
	switch x := v.(type) {
	case string:
		ix.addString(param, x)
	case map[string]any:
		var parts []string
		switch typ {
		case "HumanName":
			parts = []string{"text", "family", "given", "prefix", "suffix"}
		case "Address":
			parts = []string{"text", "line", "city", "district", "state", "postalCode", "country"}
		default:
			// Other complex types have no string form in R4 search.
			return
		}
		for _, k := range parts {
			switch pv := x[k].(type) {
			case string:
				ix.addString(param, pv)
			case []any:
				for _, e := range pv {
					if s, ok := e.(string); ok {
						ix.addString(param, s)
					}
				}
			}
		}
	}
}

func (ix *Index) addString(param, s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	ix.Strings = append(ix.Strings, StringRow{Param: param, Value: Normalize(s), Exact: s})
}
