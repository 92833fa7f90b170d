package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// analyzeInterval is how often the store looks for tables whose planner
// statistics fell behind.
const analyzeInterval = 10 * time.Second

// staleTablesSQL finds this schema's tables changed by more than 200 rows
// plus a tenth of their size since they were last analysed, the rule
// autovacuum applies with its defaults.
const staleTablesSQL = `SELECT relname FROM pg_stat_user_tables
WHERE schemaname = current_schema() AND n_mod_since_analyze > 200 + n_live_tup / 10`

// keepStatistics runs ANALYZE on tables whose statistics are stale until
// ctx ends. Search plans depend on them: on a freshly loaded table that was
// never analysed the planner estimates one row and nests loops over the
// index tables, and a token search over 10,000 resources took 40 s instead
// of milliseconds. Autovacuum does this too, when it is on; the store does
// not count on it.
func (db *DB) keepStatistics(ctx context.Context) {
	t := time.NewTicker(analyzeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = db.AnalyzeStale(ctx) // best effort: the next tick tries again
	}
}

// AnalyzeStale runs ANALYZE on every table of the schema whose statistics
// are stale. Importers call it after a
// bulk load so that the first searches are planned on real statistics.
func (db *DB) AnalyzeStale(ctx context.Context) error {
	rows, err := db.pool.Query(ctx, staleTablesSQL)
	if err != nil {
		return wrap("postgres.AnalyzeStale", err, "")
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return wrap("postgres.AnalyzeStale", err, "")
	}
	for _, t := range tables {
		if _, err := db.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{t}.Sanitize()); err != nil {
			return wrap("postgres.AnalyzeStale", err, "")
		}
	}
	return nil
}
