package sqlite

import (
	"context"
	"database/sql"
	"time"
)

// statsInterval is how often the store lets SQLite bring its planner
// statistics up to date (a variable for tests).
var statsInterval = 10 * time.Second

// keepStatistics runs PRAGMA optimize now and every statsInterval until
// ctx ends. Search plans depend on the statistics: without any, SQLite
// walks every resource of the type newest first and tests each against the
// index rows, so a token search matching one Communication of 100,000 took
// 45 ms and an _include search by recipient 0.5 s (docs/benchmarks.md,
// thirteenth session). The store's searches run on the read pool, which
// PRAGMA optimize on this connection would not see, hence 0x10000: look at
// every table. SQLite then analyses the tables never analysed and those
// whose size changed by far since, with a limit that keeps each run short.
func (db *DB) keepStatistics(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_ = db.optimize(ctx) // best effort: the next run tries again
		t.Reset(statsInterval)
	}
}

// optimize runs SQLite's own rule for stale statistics once, then
// refreshes the readers' statistics (renewReaders).
func (db *DB) optimize(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return wrap("sqlite.optimize", err, "")
	}
	return db.renewReaders(ctx)
}

// renewReaders closes the read pool's idle connections when the statistics
// differ from those it last renewed them for, so that the next searches
// open fresh ones. A connection plans with the statistics it loaded when it
// opened and does not see an ANALYZE on another: readers opened on an
// empty database kept planning without statistics (a search of one match
// among 100,000 at 39 ms instead of 0.1 ms). Comparing with what the pool
// last saw also catches an ANALYZE by Analyze or by another process.
func (db *DB) renewReaders(ctx context.Context) error {
	stats, err := db.statistics(ctx)
	if err != nil {
		return err
	}
	db.statsMu.Lock()
	defer db.statsMu.Unlock()
	if stats != db.readerStats {
		db.read.SetMaxIdleConns(0) // closes the idle connections
		db.read.SetMaxIdleConns(readConns())
		db.readerStats = stats
	}
	return nil
}

// statistics is the content of sqlite_stat1 ("" before the first ANALYZE
// creates it), to tell whether an optimize changed it.
func (db *DB) statistics(ctx context.Context) (string, error) {
	var n int
	if err := db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&n); err != nil || n == 0 {
		return "", wrap("sqlite.optimize", err, "")
	}
	var stats sql.NullString
	err := db.write.QueryRowContext(ctx, `SELECT group_concat(tbl || ' ' || coalesce(idx, '') || ' ' || stat, ';') FROM sqlite_stat1`).Scan(&stats)
	return stats.String, wrap("sqlite.optimize", err, "")
}
