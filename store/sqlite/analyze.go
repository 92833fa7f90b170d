package sqlite

import (
	"context"
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

// optimize runs SQLite's own rule for stale statistics once.
func (db *DB) optimize(ctx context.Context) error {
	_, err := db.write.ExecContext(ctx, `PRAGMA optimize=0x10002`)
	return wrap("sqlite.optimize", err, "")
}
