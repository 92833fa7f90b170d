package sqlite

import (
	"context"
	"strings"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// indexTables are the search index tables, each with the columns a row
// fills after (tenant_id, type, id).
var indexTables = []struct {
	name string
	cols []string
}{
	{"token_idx", []string{"param", "system", "code"}},
	{"string_idx", []string{"param", "value", "exact"}},
	{"date_idx", []string{"param", "low", "high"}},
	{"number_idx", []string{"param", "value"}},
	{"quantity_idx", []string{"param", "value", "system", "code", "canonical"}},
	{"reference_idx", []string{"param", "target_type", "target_id", "url"}},
	{"uri_idx", []string{"param", "value"}},
}

// indexValues lists a resource's rows per table, in indexTables' order.
func indexValues(ix search.Index) [][][]any {
	out := make([][][]any, len(indexTables))
	for _, r := range ix.Tokens {
		out[0] = append(out[0], []any{r.Param, r.System, r.Code})
	}
	for _, r := range ix.Strings {
		out[1] = append(out[1], []any{r.Param, r.Value, r.Exact})
	}
	for _, r := range ix.Dates {
		out[2] = append(out[2], []any{r.Param, r.Low, r.High})
	}
	for _, r := range ix.Numbers {
		out[3] = append(out[3], []any{r.Param, r.Value})
	}
	for _, r := range ix.Quantities {
		out[4] = append(out[4], []any{r.Param, r.Value, r.System, r.Code, r.Canonical})
	}
	for _, r := range ix.References {
		out[5] = append(out[5], []any{r.Param, r.TargetType, r.TargetID, r.URL})
	}
	for _, r := range ix.URIs {
		out[6] = append(out[6], []any{r.Param, r.Value})
	}
	return out
}

// rowChunk bounds the rows of one INSERT, well under SQLite's limit on
// bound parameters.
const rowChunk = 100

// deleteIndex removes a resource's rows from every index table.
func (t *tx) deleteIndex(ctx context.Context, op string, r store.Record) error {
	for _, tbl := range indexTables {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM `+tbl.name+` WHERE tenant_id = ? AND type = ? AND id = ?`,
			t.tenant, r.Type, r.ID); err != nil {
			return wrap(op, err, "")
		}
	}
	return nil
}

// insertIndex writes a resource's rows, a multi-row INSERT per table.
func (t *tx) insertIndex(ctx context.Context, op string, r store.Record, ix search.Index) error {
	for k, rows := range indexValues(ix) {
		tbl := indexTables[k]
		if err := t.insertRows(ctx, tbl.name, "tenant_id, type, id, "+strings.Join(tbl.cols, ", "),
			[]any{t.tenant, r.Type, r.ID}, rows); err != nil {
			return wrap(op, err, "")
		}
	}
	return nil
}

// insertRows inserts rows into table in multi-row INSERTs of at most
// rowChunk rows; every row starts with the values of prefix, then its own.
// columns names them all.
func (t *tx) insertRows(ctx context.Context, table, columns string, prefix []any, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(prefix) + len(rows[0])
	one := "(?" + strings.Repeat(", ?", width-1) + ")"
	for len(rows) > 0 {
		n := min(len(rows), rowChunk)
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		args := make([]any, 0, n*width)
		for i, row := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(append(args, prefix...), row...)
		}
		if _, err := t.tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}
