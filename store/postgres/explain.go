package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
)

// ExplainSearch runs EXPLAIN (ANALYZE, BUFFERS) on the statement of q's
// first page, planned the way searches are (for the actual values), and
// returns the plan. It is for benchmarks and diagnosing slow searches.
func (db *DB) ExplainSearch(ctx context.Context, tenant string, q store.SearchQuery) (string, error) {
	sql, args, err := sqlbase.PageSQL(dialect, tenant, q)
	if err != nil {
		return "", err
	}
	rows, err := db.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return "", wrap("postgres.ExplainSearch", err, "")
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", wrap("postgres.ExplainSearch", err, "")
	}
	return strings.Join(lines, "\n"), nil
}
