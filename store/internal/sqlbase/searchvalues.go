package sqlbase

import (
	"strings"

	"github.com/hearth-fhir/hearth/fhir/search"
)

// tableFor names the index table a criterion searches.
func tableFor(c *search.Criterion) (string, bool) {
	switch c.Modifier {
	case search.ModText:
		return "string_idx", true
	case search.ModIdentifier:
		return "token_idx", true
	}
	t, ok := map[search.Type]string{
		search.TypeString: "string_idx", search.TypeToken: "token_idx", search.TypeDate: "date_idx",
		search.TypeNumber: "number_idx", search.TypeQuantity: "quantity_idx",
		search.TypeReference: "reference_idx", search.TypeURI: "uri_idx",
	}[c.Param.Type]
	return t, ok
}

// valuesPred is the OR of a criterion's values over index alias i.
func (s *sqlSearch) valuesPred(i, tbl string, c *search.Criterion) string {
	if len(c.Values) == 0 {
		return s.fail(Internalf("sqlbase.Search", "criterion %s without values", c.Param.Code))
	}
	preds := make([]string, len(c.Values))
	for k, v := range c.Values {
		preds[k] = s.valuePred(i, c.Modifier, v)
	}
	if len(preds) == 1 {
		return preds[0]
	}
	return "(" + strings.Join(preds, " OR ") + ")"
}

// valuePred compiles one value over the columns of index alias i.
func (s *sqlSearch) valuePred(i string, mod search.Modifier, v search.Value) string {
	switch v := v.(type) {
	case search.StringValue:
		return s.stringPred(i, mod, v)
	case search.TokenValue:
		return s.tokenPred(i, v)
	case search.ReferenceValue:
		return s.referencePred(i, v)
	case search.DateValue:
		return s.datePred(i+".low", i+".high", v)
	case search.NumberValue:
		return s.numberPred(i+".value", v)
	case search.QuantityValue:
		return s.quantityPred(i, v)
	case search.URIValue:
		return s.uriPred(i, mod, v)
	}
	return s.fail(Internalf("sqlbase.Search", "unknown value type %T", v))
}

func (s *sqlSearch) stringPred(i string, mod search.Modifier, v search.StringValue) string {
	switch mod {
	case search.ModExact:
		return "(" + i + ".value = " + s.bind(v.Value) + " AND " + i + ".exact = " + s.bind(v.Raw) + ")"
	case search.ModContains:
		return i + `.value LIKE ` + s.bind("%"+escapeLike(v.Value)+"%") + ` ESCAPE '\'`
	}
	return "(" + i + ".value >= " + s.bind(v.Value) + " AND " + i + ".value < " + s.bind(search.PrefixUpper(v.Value)) + ")"
}

// escapeLike escapes LIKE's wildcards with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *sqlSearch) tokenPred(i string, v search.TokenValue) string {
	switch {
	case v.AnyCode:
		return i + ".system = " + s.bind(v.System)
	case v.HasSystem:
		return "(" + i + ".code = " + s.bind(v.Code) + " AND " + i + ".system = " + s.bind(v.System) + ")"
	}
	return i + ".code = " + s.bind(v.Code)
}

func (s *sqlSearch) referencePred(i string, v search.ReferenceValue) string {
	if v.URL != "" {
		return i + ".url = " + s.bind(v.URL)
	}
	p := i + ".target_id = " + s.bind(v.ID)
	switch len(v.Types) {
	case 0:
		return p + " AND " + i + ".target_type <> ''"
	case 1:
		return "(" + p + " AND " + i + ".target_type = " + s.bind(v.Types[0]) + ")"
	}
	return "(" + p + " AND " + i + ".target_type IN " + s.bindList(v.Types) + ")"
}

// datePred compares the range [lo, hi] of a row with the range of a date
// value, per the R4 definitions of the prefixes.
func (s *sqlSearch) datePred(lo, hi string, v search.DateValue) string {
	// Each branch binds only the ends it uses: PostgreSQL refuses a
	// statement with a parameter it cannot type.
	within := func() string { return lo + " >= " + s.bind(v.Low) + " AND " + hi + " <= " + s.bind(v.High) }
	switch v.Prefix {
	case search.PrefixNE:
		return "NOT (" + within() + ")"
	case search.PrefixGT:
		return hi + " > " + s.bind(v.High)
	case search.PrefixLT:
		return lo + " < " + s.bind(v.Low)
	case search.PrefixGE:
		return "(" + hi + " > " + s.bind(v.High) + " OR (" + within() + "))"
	case search.PrefixLE:
		return "(" + lo + " < " + s.bind(v.Low) + " OR (" + within() + "))"
	case search.PrefixSA:
		return lo + " > " + s.bind(v.High)
	case search.PrefixEB:
		return hi + " < " + s.bind(v.Low)
	case search.PrefixAP:
		return "(" + lo + " <= " + s.bind(v.High) + " AND " + hi + " >= " + s.bind(v.Low) + ")"
	}
	return "(" + within() + ")"
}

// numberPred compares a number column with a number value: eq and ne by
// the value's implicit range, the other prefixes by the value itself.
func (s *sqlSearch) numberPred(col string, v search.NumberValue) string {
	switch v.Prefix {
	case search.PrefixNE:
		return "(" + col + " < " + s.bind(v.Low) + " OR " + col + " >= " + s.bind(v.High) + ")"
	case search.PrefixGT:
		return col + " > " + s.bind(v.Value)
	case search.PrefixLT:
		return col + " < " + s.bind(v.Value)
	case search.PrefixGE:
		return col + " >= " + s.bind(v.Value)
	case search.PrefixLE:
		return col + " <= " + s.bind(v.Value)
	case search.PrefixAP:
		return "(" + col + " >= " + s.bind(v.Low) + " AND " + col + " <= " + s.bind(v.High) + ")"
	}
	return "(" + col + " >= " + s.bind(v.Low) + " AND " + col + " < " + s.bind(v.High) + ")"
}

// quantityPred matches the number and the unit: canonical rows for a value
// converted to UCUM base units, rows as written otherwise.
func (s *sqlSearch) quantityPred(i string, v search.QuantityValue) string {
	conds := []string{s.numberPred(i+".value", v.Number)}
	switch {
	case v.Canonical:
		conds = append(conds, i+".canonical", i+".code = "+s.bind(v.Code))
	case v.System != "":
		conds = append(conds, "NOT "+i+".canonical", i+".system = "+s.bind(v.System), i+".code = "+s.bind(v.Code))
	case v.Code != "":
		conds = append(conds, "NOT "+i+".canonical", i+".code = "+s.bind(v.Code))
	default:
		conds = append(conds, "NOT "+i+".canonical")
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

func (s *sqlSearch) uriPred(i string, mod search.Modifier, v search.URIValue) string {
	switch mod {
	case search.ModBelow:
		return "(" + i + ".value >= " + s.bind(v.Value) + " AND " + i + ".value < " + s.bind(search.PrefixUpper(v.Value)) + ")"
	case search.ModAbove:
		return i + ".value IN " + s.bindList(v.Above)
	}
	return i + ".value = " + s.bind(v.Value)
}

// idCond matches _id against the resource row itself.
func (s *sqlSearch) idCond(a string, c *search.Criterion) string {
	ids := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if t, ok := v.(search.TokenValue); ok {
			ids = append(ids, t.Code)
		}
	}
	if len(ids) == 0 {
		return "1 = 0"
	}
	if c.Modifier == search.ModNot {
		return a + ".id NOT IN " + s.bindList(ids)
	}
	return a + ".id IN " + s.bindList(ids)
}

// lastUpdatedCond matches _lastUpdated against the resource row: an instant
// whose range is the single microsecond stored.
func (s *sqlSearch) lastUpdatedCond(a string, c *search.Criterion) string {
	if c.Modifier == search.ModMissing {
		if c.Missing {
			return "1 = 0"
		}
		return "1 = 1"
	}
	col := a + ".last_updated"
	preds := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if d, ok := v.(search.DateValue); ok {
			preds = append(preds, s.datePred(col, col, d))
		}
	}
	if len(preds) == 0 {
		return "1 = 0"
	}
	return "(" + strings.Join(preds, " OR ") + ")"
}
