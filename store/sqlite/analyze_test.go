package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// The store analyses a table that has rows and no statistics on its own,
// in the background, so that searches are planned on statistics.
func TestKeepsStatistics(t *testing.T) {
	ctx := context.Background()
	old := statsInterval
	statsInterval = 20 * time.Millisecond
	t.Cleanup(func() { statsInterval = old })
	db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 1999)
		INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
		SELECT 't1', 'Basic', 'b' || i, 1, i, 0, x'7b7d' FROM s`); err != nil {
		t.Fatal(err)
	}
	var rows int
	for range 250 { // 5 s at most
		err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'resources'`).Scan(&rows)
		if err == nil && rows > 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("resources has 2,000 rows and, after 5 s, %d rows of statistics", rows)
}
