package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// The store looks for tables whose planner statistics fell behind every
// second, and analyses those whose statistics describe less than half of
// them (outgrownDivisor); every tenth look it also takes those that changed
// by a tenth (staleDivisor), autovacuum's rule with its defaults.
const (
	checkInterval   = time.Second
	staleEvery      = 10 // checks
	staleDivisor    = 10
	outgrownDivisor = 2
)

// changedTablesSQL finds this schema's tables changed by more than 200 rows
// plus n_live_tup / $1 since they were last analysed. Divided by 2: the
// rows changed since outnumber those the statistics saw, as in a table
// that was never analysed at all.
const changedTablesSQL = `SELECT relname FROM pg_stat_user_tables
WHERE schemaname = current_schema() AND n_mod_since_analyze > 200 + n_live_tup / $1`

// keepStatistics runs ANALYZE on tables whose statistics are stale until
// ctx ends. Search plans depend on them: on a freshly loaded table that was
// never analysed the planner estimates one row and nests loops over the
// index tables, and a token search over 10,000 resources took 40 s instead
// of milliseconds; over 200 it took 18 ms instead of 0.5 while it waited
// for a check every 10 s. Autovacuum does this too, when it is on; the
// store does not count on it. Outgrown tables are looked for every second
// because a table that keeps doubling is analysed a few times only, while
// the tenth rule every second would analyse a growing table at every
// check.
func (db *DB) keepStatistics(ctx context.Context) {
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		divisor := outgrownDivisor
		if n%staleEvery == 0 {
			divisor = staleDivisor
		}
		_ = db.analyzeChanged(ctx, divisor) // best effort: the next tick tries again
	}
}

// AnalyzeStale runs ANALYZE on every table of the schema whose statistics
// are stale (a tenth of it changed). Importers call it after a bulk load
// so that the first searches are planned on real statistics.
func (db *DB) AnalyzeStale(ctx context.Context) error {
	return db.analyzeChanged(ctx, staleDivisor)
}

// analyzeChanged runs ANALYZE on the tables of changedTablesSQL.
func (db *DB) analyzeChanged(ctx context.Context, divisor int) error {
	rows, err := db.pool.Query(ctx, changedTablesSQL, divisor)
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
