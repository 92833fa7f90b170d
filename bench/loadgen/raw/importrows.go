package raw

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/google/uuid"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/fhir/search"
)

// pass marks a column whose values every insert fills in afresh.
type pass int

const (
	fixed   pass = iota // computed once, in setup
	passIDs             // the resource's id in this insert
	passNow             // the time of the insert, microseconds
)

// importCol is a column after tenant_id: its name, its PostgreSQL type
// (the element type of its unnest array) and whether inserts fill it.
type importCol struct {
	name, pgType string
	pass         pass
}

// importLayouts are the tables a created resource writes, in Hearth's
// order: the resource row, its history row, the index tables of
// migrations/*/0002_search.sql, and the audit row.
func importLayouts() []importTable {
	head := []importCol{{"type", "text", fixed}, {"id", "text", passIDs}}
	version := []importCol{{"version", "bigint", fixed}, {"last_updated", "bigint", passNow},
		{"deleted", "boolean", fixed}, {"body", "bytea", fixed}}
	text := func(names ...string) []importCol {
		out := append([]importCol(nil), head...)
		for _, n := range names {
			out = append(out, importCol{n, "text", fixed})
		}
		return out
	}
	layouts := []importTable{
		{name: "resources", cols: append(text(), version...)},
		{name: "resource_history", cols: append(text(), version...)},
		{name: "token_idx", cols: text("param", "system", "code")},
		{name: "string_idx", cols: text("param", "value", "exact")},
		{name: "date_idx", cols: append(text("param"), importCol{"low", "bigint", fixed}, importCol{"high", "bigint", fixed})},
		{name: "number_idx", cols: append(text("param"), importCol{"value", "float8", fixed})},
		{name: "quantity_idx", cols: append(text("param"), importCol{"value", "float8", fixed},
			importCol{"system", "text", fixed}, importCol{"code", "text", fixed}, importCol{"canonical", "boolean", fixed})},
		{name: "reference_idx", cols: text("param", "target_type", "target_id", "url")},
		{name: "uri_idx", cols: text("param", "value")},
		{name: "audit_events", cols: append(text(), importCol{"recorded", "bigint", passNow},
			importCol{"action", "text", fixed}, importCol{"body", "bytea", fixed})},
	}
	for i := range layouts {
		t := &layouts[i]
		t.vals = make([]any, len(t.cols))
		for j, c := range t.cols {
			t.vals[j] = emptyColumn(c)
		}
	}
	return layouts
}

// Places of the tables in importLayouts.
const (
	resourcesTable = iota
	historyTable
	tokenTable
	stringTable
	dateTable
	numberTable
	quantityTable
	referenceTable
	uriTable
	auditTable
)

// emptyColumn is the typed slice a fixed column's values go into, or the
// pass marker of a column inserts fill.
func emptyColumn(c importCol) any {
	if c.pass != fixed {
		return c.pass
	}
	switch c.pgType {
	case "bigint":
		return []int64{}
	case "float8":
		return []float64{}
	case "boolean":
		return []bool{}
	case "bytea":
		return [][]byte{}
	}
	return []string{}
}

// importTable is one table's rows of a bundle, column by column: each of
// vals is a typed slice ([]string, []int64, []float64, []bool, [][]byte)
// or the pass marker of a column the insert fills.
type importTable struct {
	name string
	cols []importCol
	res  []int // the resource (its place in the bundle) of each row
	vals []any
}

// add appends a row of resource res; values are the fixed columns' after type.
func (t *importTable) add(res int, typ string, values ...any) {
	t.res = append(t.res, res)
	values = append([]any{typ}, values...)
	k := 0
	for j, c := range t.cols {
		if c.pass != fixed {
			continue
		}
		switch col := t.vals[j].(type) {
		case []string:
			t.vals[j] = append(col, values[k].(string))
		case []int64:
			t.vals[j] = append(col, values[k].(int64))
		case []float64:
			t.vals[j] = append(col, values[k].(float64))
		case []bool:
			t.vals[j] = append(col, values[k].(bool))
		case [][]byte:
			t.vals[j] = append(col, values[k].([]byte))
		}
		k++
	}
}

// columns are the table's values for one insert: the fixed columns as
// computed, ids and now filled in.
func (t *importTable) columns(ids []string, now int64) []any {
	out := make([]any, len(t.vals))
	for j, v := range t.vals {
		switch p, _ := v.(pass); p {
		case passIDs:
			col := make([]string, len(t.res))
			for i, r := range t.res {
				col[i] = ids[r]
			}
			out[j] = col
		case passNow:
			col := make([]int64, len(t.res))
			for i := range col {
				col[i] = now
			}
			out[j] = col
		default:
			out[j] = v
		}
	}
	return out
}

// importBundle is every row one transaction Bundle writes.
type importBundle struct {
	resources int
	tables    []importTable
}

// indexRows counts the bundle's search index rows.
func (b *importBundle) indexRows() int {
	n := 0
	for _, t := range b.tables[tokenTable:auditTable] {
		n += len(t.res)
	}
	return n
}

// urnRef is a reference to another entry of the Bundle by its fullUrl.
var urnRef = regexp.MustCompile(`"urn:uuid:[0-9A-Fa-f-]{36}"`)

// buildImport computes the rows Hearth writes for a Bundle of creates:
// each entry gets a server id, references to entries' fullUrls become
// Type/id (as Hearth's transaction rewrites them), and the search index
// rows are those of Hearth's extractor for the rewritten resource.
func buildImport(reg *search.Registry, entries []loadgen.BundleEntry) (importBundle, error) {
	local := make(map[string][]byte, len(entries))
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = newID()
		local[`"`+e.FullURL+`"`] = []byte(`"` + e.Type + "/" + ids[i] + `"`)
	}
	b := importBundle{resources: len(entries), tables: importLayouts()}
	for i, e := range entries {
		body := urnRef.ReplaceAllFunc(e.Resource, func(ref []byte) []byte {
			if to, ok := local[string(ref)]; ok {
				return to
			}
			return ref
		})
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			return b, fmt.Errorf("%s entry %d: %w", e.Type, i, err)
		}
		body = compact.Bytes()
		ix, err := reg.Index(e.Type, body, "")
		if err != nil {
			return b, fmt.Errorf("%s entry %d: index: %w", e.Type, i, err)
		}
		b.tables[resourcesTable].add(i, e.Type, int64(1), false, body)
		b.tables[historyTable].add(i, e.Type, int64(1), false, body)
		b.addIndex(i, e.Type, ix)
		b.tables[auditTable].add(i, e.Type, "C", auditEvent("C", e.Type, ids[i], 1))
	}
	return b, nil
}

// addIndex appends resource res's search index rows.
func (b *importBundle) addIndex(res int, typ string, ix search.Index) {
	for _, r := range ix.Tokens {
		b.tables[tokenTable].add(res, typ, r.Param, r.System, r.Code)
	}
	for _, r := range ix.Strings {
		b.tables[stringTable].add(res, typ, r.Param, r.Value, r.Exact)
	}
	for _, r := range ix.Dates {
		b.tables[dateTable].add(res, typ, r.Param, r.Low, r.High)
	}
	for _, r := range ix.Numbers {
		b.tables[numberTable].add(res, typ, r.Param, r.Value)
	}
	for _, r := range ix.Quantities {
		b.tables[quantityTable].add(res, typ, r.Param, r.Value, r.System, r.Code, r.Canonical)
	}
	for _, r := range ix.References {
		b.tables[referenceTable].add(res, typ, r.Param, r.TargetType, r.TargetID, r.URL)
	}
	for _, r := range ix.URIs {
		b.tables[uriTable].add(res, typ, r.Param, r.Value)
	}
}

// newID is a server id as Hearth makes them: a UUIDv7, time-ordered, so
// that keys arrive in index order much as Hearth's do.
func newID() string {
	if id, err := uuid.NewV7(); err == nil {
		return id.String()
	}
	return uuid.NewString()
}
