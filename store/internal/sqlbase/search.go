package sqlbase

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// Scanner is one row of a result.
type Scanner interface {
	Scan(dest ...any) error
}

// Querier runs a query and hands each row to fn. Backends implement it on
// a pool or a transaction; the PostgreSQL one plans every search for its
// actual values (custom plans).
type Querier interface {
	Query(ctx context.Context, sql string, args []any, fn func(Scanner) error) error
}

// Dialect is what differs between the SQL backends in a search.
type Dialect struct {
	// Placeholder renders the n-th (1-based) parameter; it may be used
	// more than once in a statement.
	Placeholder func(n int) string
	// CommonRows, when positive, makes a page whose order an index gives
	// (by id or _lastUpdated) count each criterion's index rows first, up
	// to CommonRows; a criterion with that many is written as a
	// correlated EXISTS (see commonCriteria). PostgreSQL's planner turns
	// either form into the semi-join the value calls for; SQLite's does not.
	CommonRows int
}

// DefaultMaxInclude bounds the resources _include and _revinclude add to
// one page when the query does not say.
const DefaultMaxInclude = 1000

// Search runs q for tenant: one page of matches, the total when asked for,
// and the included resources.
func Search(ctx context.Context, db Querier, d Dialect, tenant string, q store.SearchQuery) (store.SearchPage, error) {
	const op = "sqlbase.Search"
	page := store.SearchPage{Total: -1}
	if tenant == "" {
		return page, Internalf(op, "search without a tenant")
	}
	if q.Total {
		n, err := count(ctx, db, d, tenant, q)
		if err != nil {
			return page, err
		}
		page.Total = n
	}
	if q.Count <= 0 {
		return page, nil
	}
	common, err := commonCriteria(ctx, db, d, tenant, q)
	if err != nil {
		return page, err
	}
	rows, err := pageRows(ctx, db, d, tenant, q, q.Cursor, common)
	if err != nil {
		return page, err
	}
	backward := q.Cursor != nil && q.Cursor.Backward
	more := len(rows) > q.Count
	if more {
		rows = rows[:q.Count]
	}
	if backward {
		slices.Reverse(rows)
		if !more {
			// Nothing before this page: it is the first page, which
			// may be longer than what was left before the cursor.
			q.Cursor = nil
			return Search(ctx, db, d, tenant, q)
		}
	}
	for _, r := range rows {
		page.Records = append(page.Records, r.rec)
	}
	if len(rows) > 0 {
		first, last := rows[0], rows[len(rows)-1]
		if more || backward {
			page.Next = &store.Cursor{Keys: last.keys, ID: last.rec.ID, Type: last.rec.Type}
		}
		if q.Cursor != nil {
			page.Prev = &store.Cursor{Keys: first.keys, ID: first.rec.ID, Type: first.rec.Type, Backward: true}
		}
	}
	if len(q.Include) > 0 && len(page.Records) > 0 {
		page.Included, err = includes(ctx, db, d, tenant, q, page.Records)
	}
	return page, err
}

// row is a match with its sort key values.
type row struct {
	rec  store.Record
	keys []any
}

func count(ctx context.Context, db Querier, d Dialect, tenant string, q store.SearchQuery) (int64, error) {
	s := newSQLSearch(d.Placeholder, tenant, q.Constraints)
	sql := "SELECT count(*) FROM resources r WHERE " + s.resourceFilter("r", q.Types, q.Where)
	if s.err != nil {
		return 0, s.err
	}
	var n int64
	err := db.Query(ctx, sql, s.args, func(sc Scanner) error { return sc.Scan(&n) })
	return n, Wrap("sqlbase.Search", err)
}

// commonCriteria counts, when the dialect asks for it (CommonRows) and an
// index gives the page's order, the index rows of each plain criterion up
// to CommonRows, and returns those that reach it. SQLite turns
// "r.id IN (SELECT … FROM token_idx …)" into a list of every matching id:
// for a code half the resources hold, 50,000 ids collected and sorted to
// show 20 (0.4 s on 100,000 Communications). Written as a correlated
// EXISTS, the page walks resources in its order and probes the index for
// each, stopping at the page's end (0.4 ms). For a rare code the walk
// would cross every resource (0.25 s for one match), while the list is
// short; the count, which reads at most CommonRows index entries, tells
// the two apart. A conjunction of common criteria that is rare together
// still walks far; the counts cannot see that.
func commonCriteria(ctx context.Context, db Querier, d Dialect, tenant string, q store.SearchQuery) (map[*search.Criterion]bool, error) {
	if d.CommonRows <= 0 || !resourceColumnKeys(q.Sort) {
		return nil, nil
	}
	var common map[*search.Criterion]bool
	for i := range q.Where {
		c := &q.Where[i]
		tbl, ok := plainCriterion(c)
		if !ok {
			continue
		}
		s := newSQLSearch(d.Placeholder, tenant, nil)
		sql := "SELECT count(*) FROM (SELECT 1" + s.indexRows(s.alias("i"), q.Types, tbl, search.IndexName(c), func(i string) string {
			return s.valuesPred(i, tbl, c)
		}) + " LIMIT " + strconv.Itoa(d.CommonRows) + ") n"
		if s.err != nil {
			return nil, s.err
		}
		var n int
		if err := db.Query(ctx, sql, s.args, func(sc Scanner) error { return sc.Scan(&n) }); err != nil {
			return nil, Wrap("sqlbase.Search", err)
		}
		if n >= d.CommonRows {
			if common == nil {
				common = map[*search.Criterion]bool{}
			}
			common[c] = true
		}
	}
	return common, nil
}

// pageRows fetches up to Count+1 matches after (or, backward, before) the
// cursor: keyset paging, so rows written meanwhile never shift a page.
func pageRows(ctx context.Context, db Querier, d Dialect, tenant string, q store.SearchQuery, cur *store.Cursor,
	common map[*search.Criterion]bool) ([]row, error) {
	sql, args, err := pageSQL(d, tenant, q, cur, common)
	if err != nil {
		return nil, err
	}
	nkeys := len(q.Sort)
	var out []row
	err = db.Query(ctx, sql, args, func(sc Scanner) error {
		var r row
		var lastUpdated int64
		dest := []any{&r.rec.Type, &r.rec.ID}
		if !q.IDsOnly {
			dest = append(dest, &r.rec.Version, &lastUpdated, &r.rec.Body)
		}
		r.keys = make([]any, nkeys)
		for k := range r.keys {
			dest = append(dest, &r.keys[k])
		}
		if err := sc.Scan(dest...); err != nil {
			return err
		}
		r.rec.LastUpdated = Time(lastUpdated)
		for k, v := range r.keys {
			if b, ok := v.([]byte); ok {
				r.keys[k] = string(b)
			}
		}
		out = append(out, r)
		return nil
	})
	return out, Wrap("sqlbase.Search", err)
}

// pageSQL is the statement behind one page: the filtered matches, ordered
// by the sort keys then id and type, after the cursor, Count+1 of them.
// With sort keys from the index tables the keys are computed and the page
// cut on narrow rows first; only the page's rows are joined back for their
// bodies. The criteria in common are written as correlated EXISTS.
func pageSQL(d Dialect, tenant string, q store.SearchQuery, cur *store.Cursor, common map[*search.Criterion]bool) (string, []any, error) {
	s := newSQLSearch(d.Placeholder, tenant, q.Constraints)
	s.common = common
	filter := s.resourceFilter("r", q.Types, q.Where)
	backward := cur != nil && cur.Backward
	if cur != nil && !cursorFits(cur, q.Sort) {
		return "", nil, store.ErrBadCursor
	}
	keys := make([]string, len(q.Sort))
	for k, sk := range q.Sort {
		keys[k] = s.sortKey("r", sk)
	}
	cols := "r.type, r.id"
	if !q.IDsOnly {
		cols += ", r.version, r.last_updated, r.body"
	}
	var sql string
	limit := " LIMIT " + strconv.Itoa(q.Count+1)
	if len(keys) == 0 {
		// The page is cut on (type, id) alone, which an index-only scan of
		// the primary key can walk; only the page's rows are then read
		// whole.
		sel := "SELECT r.type, r.id FROM resources r WHERE " + filter
		if cur != nil {
			sel += " AND " + s.keyset(nil, "r.id", "r.type", q.Sort, cur)
		}
		sel += " ORDER BY " + orderBy(nil, "r.id", "r.type", q.Sort, backward) + limit
		if q.IDsOnly {
			return sel, s.args, s.err
		}
		sql = "SELECT " + cols + " FROM (" + sel + ") p JOIN resources r ON r.tenant_id = " + s.tenant +
			" AND r.type = p.type AND r.id = p.id ORDER BY " + orderBy(nil, "p.id", "p.type", q.Sort, backward)
	} else if resourceColumnKeys(q.Sort) {
		// Keys that are columns of resources (_lastUpdated, _id) need no
		// narrow first pass: in one level the planner walks
		// resources_recent_first and stops at the end of the page. W3's
		// searches cost PostgreSQL 25-45 % less this way.
		sql = "SELECT " + cols
		for k, e := range keys {
			sql += ", " + e + " AS k" + strconv.Itoa(k)
		}
		sql += " FROM resources r WHERE " + filter
		if cur != nil {
			sql += " AND " + s.keyset(keys, "r.id", "r.type", q.Sort, cur)
		}
		sql += " ORDER BY " + orderBy(keys, "r.id", "r.type", q.Sort, backward) + limit
	} else {
		names := make([]string, len(keys))
		inner := "SELECT r.type, r.id"
		for k, e := range keys {
			names[k] = "p.k" + strconv.Itoa(k)
			inner += ", " + e + " AS k" + strconv.Itoa(k)
		}
		inner += " FROM resources r WHERE " + filter
		sel := "SELECT p.* FROM (" + inner + ") p"
		if cur != nil {
			sel += " WHERE " + s.keyset(names, "p.id", "p.type", q.Sort, cur)
		}
		sel += " ORDER BY " + orderBy(names, "p.id", "p.type", q.Sort, backward) + limit
		sql = "SELECT " + cols + ", " + strings.Join(names, ", ") + " FROM (" + sel + ") p JOIN resources r ON r.tenant_id = " +
			s.tenant + " AND r.type = p.type AND r.id = p.id ORDER BY " + orderBy(names, "p.id", "p.type", q.Sort, backward)
	}
	return sql, s.args, s.err
}

// resourceColumnKeys reports whether every sort key is a column of the
// resources table.
func resourceColumnKeys(sort []search.SortKey) bool {
	for _, sk := range sort {
		if sk.Param.Code != search.ParamID && sk.Param.Code != search.ParamLastUpdated {
			return false
		}
	}
	return true
}

// cursorFits checks a cursor against the sort keys: one value per key, of
// the kind the key's column holds (numbers for dates, numbers, quantities
// and _lastUpdated; text otherwise), so that a forged cursor is refused
// rather than compared with a column of another type.
func cursorFits(cur *store.Cursor, sort []search.SortKey) bool {
	if len(cur.Keys) != len(sort) {
		return false
	}
	for i, k := range cur.Keys {
		typ := sort[i].Param.Type
		numeric := typ == search.TypeDate || typ == search.TypeNumber || typ == search.TypeQuantity
		switch k.(type) {
		case nil:
		case int64, float64:
			if !numeric {
				return false
			}
		case string:
			if numeric {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// PageSQL returns the statement and arguments of q's first page, for
// EXPLAIN in benchmarks and diagnostics.
func PageSQL(d Dialect, tenant string, q store.SearchQuery) (string, []any, error) {
	return pageSQL(d, tenant, q, q.Cursor, nil)
}

// sortKey is the value a resource sorts by for one key: the lowest of its
// values ascending, the highest descending (for dates, the start of the
// earliest range and the end of the latest).
func (s *sqlSearch) sortKey(a string, sk search.SortKey) string {
	switch sk.Param.Code {
	case search.ParamID:
		return a + ".id"
	case search.ParamLastUpdated:
		return a + ".last_updated"
	}
	agg := "MIN"
	if sk.Desc {
		agg = "MAX"
	}
	c := search.Criterion{Param: sk.Param}
	tbl, ok := tableFor(&c)
	if !ok {
		return s.fail(Internalf("sqlbase.Search", "cannot sort by %s", sk.Param.Code))
	}
	col := map[string]string{"string_idx": "value", "token_idx": "code", "number_idx": "value",
		"quantity_idx": "value", "uri_idx": "value", "reference_idx": "target_id", "date_idx": "low"}[tbl]
	if tbl == "date_idx" && sk.Desc {
		col = "high"
	}
	i := s.alias("k")
	extra := ""
	if tbl == "quantity_idx" {
		extra = " AND NOT " + i + ".canonical"
	}
	return "(SELECT " + agg + "(" + i + "." + col + ") FROM " + tbl + " " + i + " WHERE " + i + ".tenant_id = " + a +
		".tenant_id AND " + i + ".type = " + a + ".type AND " + i + ".id = " + a + ".id AND " + i + ".param = " +
		s.bind(sk.Param.Code) + extra + ")"
}

// orderBy renders the ORDER BY of the keys, then id and type. Resources
// without a value for a key sort last either way; backward reverses it all.
func orderBy(keys []string, id, typ string, sort []search.SortKey, backward bool) string {
	var parts []string
	for k, key := range keys {
		desc := sort[k].Desc != backward
		dir, nulls := " ASC", " NULLS LAST"
		if desc {
			dir = " DESC"
		}
		if backward {
			nulls = " NULLS FIRST"
		}
		parts = append(parts, key+dir+nulls)
	}
	dir := " ASC"
	if backward {
		dir = " DESC"
	}
	return strings.Join(append(parts, id+dir, typ+dir), ", ")
}

// keyset is the condition that a row comes after the cursor in the order
// (before it, paging backward): lexicographic over the keys, with NULLs
// last, then id and type.
func (s *sqlSearch) keyset(keys []string, id, typ string, sort []search.SortKey, cur *store.Cursor) string {
	var ors []string
	var eqs []string
	for k, key := range keys {
		v := cur.Keys[k]
		var beyond string
		asc := !sort[k].Desc
		switch {
		case v == nil && !cur.Backward:
			beyond = "" // nothing sorts after NULL
		case v == nil:
			beyond = key + " IS NOT NULL" // everything else sorts before it
		case !cur.Backward && asc:
			beyond = "(" + key + " > " + s.bind(v) + " OR " + key + " IS NULL)"
		case !cur.Backward:
			beyond = "(" + key + " < " + s.bind(v) + " OR " + key + " IS NULL)"
		case asc:
			beyond = key + " < " + s.bind(v)
		default:
			beyond = key + " > " + s.bind(v)
		}
		if beyond != "" {
			ors = append(ors, strings.Join(append(slices.Clone(eqs), beyond), " AND "))
		}
		if v == nil {
			eqs = append(eqs, key+" IS NULL")
		} else {
			eqs = append(eqs, key+" = "+s.bind(v))
		}
	}
	op := " > "
	if cur.Backward {
		op = " < "
	}
	idv := s.bind(cur.ID)
	tail := "(" + id + op + idv + " OR (" + id + " = " + idv + " AND " + typ + op + s.bind(cur.Type) + "))"
	ors = append(ors, strings.Join(append(eqs, tail), " AND "))
	return "(" + strings.Join(ors, " OR ") + ")"
}
