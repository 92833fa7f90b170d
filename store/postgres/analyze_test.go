package postgres

import (
	"context"
	"testing"
	"time"
)

// The every-second rule analyses a table its statistics describe less
// than half of — one never analysed — and leaves a table that grew by 60 %
// since its last analysis to the tenth rule of the ten-second check.
func TestAnalyzeOutgrown(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	// insert adds resources rows [from, to) and waits until the table's
	// statistics count them, as the checks see them.
	insert := func(from, to int) {
		t.Helper()
		if _, err := conn.Exec(ctx, `INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
			SELECT 't1', 'Basic', 'b' || i, 1, 0, false, '\x7b7d' FROM generate_series($1::int, $2::int - 1) i`, from, to); err != nil {
			t.Fatal(err)
		}
		for range 100 {
			// Ends the transaction with the backend's pending counts forced out.
			if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
				t.Fatal(err)
			}
			var live int
			if err := db.pool.QueryRow(ctx, `SELECT n_live_tup FROM pg_stat_user_tables
				WHERE schemaname = current_schema() AND relname = 'resources'`).Scan(&live); err != nil {
				t.Fatal(err)
			}
			if live == to {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the statistics never counted %d rows", to)
	}
	analyses := func() int {
		t.Helper()
		var n int
		if err := db.pool.QueryRow(ctx, `SELECT analyze_count FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'resources'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	insert(0, 500) // never analysed
	if err := db.analyzeChanged(ctx, outgrownDivisor); err != nil {
		t.Fatal(err)
	}
	if n := analyses(); n != 1 {
		t.Fatalf("a table of 500 rows never analysed: %d analyses, want 1", n)
	}
	insert(500, 800) // 300 new rows on 500 known: outgrown no, stale yes
	if err := db.analyzeChanged(ctx, outgrownDivisor); err != nil {
		t.Fatal(err)
	}
	if n := analyses(); n != 1 {
		t.Fatalf("a table grown by 60 %%: %d analyses by the outgrown rule, want still 1", n)
	}
	if err := db.AnalyzeStale(ctx); err != nil {
		t.Fatal(err)
	}
	if n := analyses(); n != 2 {
		t.Fatalf("a table grown by 60 %%: %d analyses after the tenth rule, want 2", n)
	}
}
