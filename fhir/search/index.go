package search

// Index is everything search knows about one resource version: one row per
// value of each parameter, grouped by the table it is stored in. Stores
// replace a resource's rows whenever it is written.
type Index struct {
	Strings    []StringRow
	Tokens     []TokenRow
	Dates      []DateRow
	Numbers    []NumberRow
	Quantities []QuantityRow
	References []ReferenceRow
	URIs       []URIRow
}

// Len is the number of rows.
func (ix *Index) Len() int {
	return len(ix.Strings) + len(ix.Tokens) + len(ix.Dates) + len(ix.Numbers) +
		len(ix.Quantities) + len(ix.References) + len(ix.URIs)
}

// StringRow is a string value: Value is normalised (Normalize) for the
// default and :contains matches, Exact is the value as written, for :exact.
type StringRow struct {
	Param string
	Value string
	Exact string
}

// TokenRow is a code with its system (empty when there is none).
type TokenRow struct {
	Param  string
	System string
	Code   string
}

// DateRow is a date, dateTime, instant, Period or Timing as the range of
// instants it covers: microseconds since the epoch, both ends inclusive.
type DateRow struct {
	Param     string
	Low, High int64
}

// NumberRow is a number.
type NumberRow struct {
	Param string
	Value float64
}

// QuantityRow is a quantity as written (Canonical false) or converted to
// UCUM base units (Canonical true, System is UCUM and Code the canonical
// unit), so that 1 g and 1000 mg match the same searches.
type QuantityRow struct {
	Param     string
	Value     float64
	System    string
	Code      string
	Canonical bool
}

// ReferenceRow is a reference: to a resource of this server (TargetType
// and TargetID), or to anything else by its URL (URL, for absolute and
// canonical references).
type ReferenceRow struct {
	Param      string
	TargetType string
	TargetID   string
	URL        string
}

// URIRow is a uri, url, canonical, oid or uuid value.
type URIRow struct {
	Param string
	Value string
}

// Derived index parameters: some modifiers search rows that are stored under
// a name of their own, next to the parameter's ordinary rows.
const (
	// textSuffix marks the string rows of a token's text and display, for :text.
	textSuffix = ":text"
	// identifierSuffix marks the token rows of a reference's identifier,
	// for :identifier.
	identifierSuffix = ":identifier"
)

// IndexName is the param name of the rows a criterion searches: the
// parameter's code, or a derived name for :text and :identifier.
func IndexName(c *Criterion) string {
	switch c.Modifier {
	case ModText:
		return c.Param.Code + textSuffix
	case ModIdentifier:
		return c.Param.Code + identifierSuffix
	}
	return c.Param.Code
}

// dedupe drops repeated rows (a CodeableConcept whose text equals its
// coding's display, the same identifier twice): they would only make the
// tables larger.
func (ix *Index) dedupe() {
	ix.Strings = uniq(ix.Strings)
	ix.Tokens = uniq(ix.Tokens)
	ix.Dates = uniq(ix.Dates)
	ix.Numbers = uniq(ix.Numbers)
	ix.Quantities = uniq(ix.Quantities)
	ix.References = uniq(ix.References)
	ix.URIs = uniq(ix.URIs)
}

func uniq[T comparable](rows []T) []T {
	if len(rows) < 2 {
		return rows
	}
	seen := make(map[T]bool, len(rows))
	out := rows[:0]
	for _, r := range rows {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
