package sqlbase

import (
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/store"
)

// HistoryColumns are the columns HistorySQL selects, in order.
const HistoryColumns = "seq, type, id, version, last_updated, deleted, body"

// HistorySQL builds the history query for q. placeholder renders the n-th
// (1-based) parameter in the backend's syntax. The query fetches one row
// more than the page size; limit is the page size, so a result longer than
// limit means there is a next page. Only the filters q uses appear, so each
// shape of query gets its own plan.
func HistorySQL(op, tenant string, q store.HistoryQuery, placeholder func(n int) string) (sql string, args []any, limit int, err error) {
	if q.ID != "" && q.Type == "" {
		return "", nil, 0, Internalf(op, "instance history without a type")
	}
	var b strings.Builder
	b.WriteString("SELECT " + HistoryColumns + " FROM resource_history WHERE tenant_id = ")
	arg := func(v any) string {
		args = append(args, v)
		return placeholder(len(args))
	}
	b.WriteString(arg(tenant))
	if q.Type != "" {
		b.WriteString(" AND type = " + arg(q.Type))
	}
	if q.ID != "" {
		b.WriteString(" AND id = " + arg(q.ID))
	}
	if !q.Since.IsZero() {
		b.WriteString(" AND last_updated >= " + arg(Micros(q.Since)))
	}
	if q.Before > 0 {
		b.WriteString(" AND seq < " + arg(q.Before))
	}
	limit = q.Count
	if limit <= 0 {
		limit = DefaultHistoryCount
	}
	limit = min(limit, MaxHistoryCount)
	b.WriteString(" ORDER BY seq DESC LIMIT " + strconv.Itoa(limit+1))
	return b.String(), args, limit, nil
}

// HistoryRow is one row of HistorySQL's result.
type HistoryRow struct {
	Seq    int64
	Record store.Record
}

// Page turns up to limit+1 rows into a page: the extra row only says that a
// next page exists, whose cursor is the last returned row's seq.
func Page(rows []HistoryRow, limit int) store.HistoryPage {
	var p store.HistoryPage
	if len(rows) > limit {
		rows = rows[:limit]
		p.Next = rows[len(rows)-1].Seq
	}
	p.Records = make([]store.Record, len(rows))
	for i, r := range rows {
		p.Records[i] = r.Record
	}
	return p
}
