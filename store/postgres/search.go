package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// dialect renders PostgreSQL's numbered placeholders.
var dialect = sqlbase.Dialect{Placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}

// searcher runs search statements on a pool or transaction. Every one runs
// in QueryExecModeExec: an unnamed statement that PostgreSQL plans for the
// values at hand. A cached generic plan, chosen for average values, is
// hundreds of times slower on skewed token and reference data.
type searcher struct{ q querier }

func (s searcher) Query(ctx context.Context, sql string, args []any, fn func(sqlbase.Scanner) error) error {
	rows, err := s.q.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
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

// Search runs a search. A search of several statements (a total, includes)
// runs them in one read-only REPEATABLE READ transaction, so that they see
// the same snapshot; a single statement needs none.
func (db *DB) Search(ctx context.Context, tenant string, q store.SearchQuery) (store.SearchPage, error) {
	const op = "postgres.Search"
	if !q.Total && len(q.Include) == 0 {
		page, err := sqlbase.Search(ctx, searcher{db.pool}, dialect, tenant, q)
		return page, wrap(op, err, "")
	}
	ptx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.SearchPage{}, wrap(op, err, "")
	}
	defer rollback(ctx, ptx)
	page, err := sqlbase.Search(ctx, searcher{ptx}, dialect, tenant, q)
	return page, wrap(op, err, "")
}

// Search runs a search inside the transaction, seeing its writes.
func (t *tx) Search(ctx context.Context, q store.SearchQuery) (store.SearchPage, error) {
	page, err := sqlbase.Search(ctx, searcher{t.tx}, dialect, t.tenant, q)
	return page, wrap("postgres.Tx.Search", err, "")
}

var _ store.Analyzer = (*DB)(nil)

// Analyze refreshes the planner statistics of the tables searches read,
// and their visibility maps (VACUUM), which index-only scans need.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, `VACUUM (ANALYZE) resources, token_idx, string_idx, date_idx, number_idx, quantity_idx, reference_idx, uri_idx`)
	return wrap("postgres.Analyze", err, "")
}
