package sqlite

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// commonRows is where a criterion's matches count as common
// (sqlbase.Dialect.CommonRows). Measured on 100,000 Communications: a list
// of m matches costs ~8 µs each to fetch and sort, the walk ~2.5 µs per
// resource it passes, about 21 × 100,000 / m of them for a page of 20; the
// two meet near m = 800. The count reads at most this many index entries.
const commonRows = 1000

// dialect renders SQLite's numbered placeholders (?NNN), which, unlike a
// bare ?, may be used more than once.
var dialect = sqlbase.Dialect{Placeholder: func(n int) string { return "?" + strconv.Itoa(n) }, CommonRows: commonRows}

// searcher runs search statements on a pool or transaction.
type searcher struct{ q queryer }

func (s searcher) Query(ctx context.Context, query string, args []any, fn func(sqlbase.Scanner) error) error {
	rows, err := s.q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Search runs a search on the read pool. A search of several statements (a
// total, includes) runs them in one read transaction, so that they see the
// same snapshot.
func (db *DB) Search(ctx context.Context, tenant string, q store.SearchQuery) (store.SearchPage, error) {
	const op = "sqlite.Search"
	if !q.Total && len(q.Include) == 0 {
		page, err := sqlbase.Search(ctx, searcher{db.read}, dialect, tenant, q)
		return page, wrap(op, err, "")
	}
	rtx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.SearchPage{}, wrap(op, err, "")
	}
	defer rtx.Rollback()
	page, err := sqlbase.Search(ctx, searcher{rtx}, dialect, tenant, q)
	return page, wrap(op, err, "")
}

// Search runs a search inside the transaction, seeing its writes.
func (t *tx) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	page, err := sqlbase.Search(ctx, searcher{t.tx}, dialect, t.tenant, q)
	return page, wrap("sqlite.Tx.Search", err, "")
}

var _ store.Analyzer = (*DB)(nil)

// Analyze refreshes the statistics SQLite's planner keeps (sqlite_stat1).
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		return wrap("sqlite.Analyze", err, "")
	}
	return db.renewReaders(ctx)
}
