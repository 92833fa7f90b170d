package sqlite

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The store analyses tables that have rows and no statistics on its own, in
// the background, and the read pool plans with the new statistics, also on
// a connection that opened before them: a rare code's page is then driven
// by the list of its resources instead of a walk through all of them.
func TestKeepsStatistics(t *testing.T) {
	ctx := context.Background()
	db := openWithStatsEvery(t, 20*time.Millisecond)
	// A reader opens and plans before there is anything to analyse.
	if plan := explain(t, db.read, rarePage, rareArgs); !strings.Contains(plan, "resources_recent_first") {
		t.Fatalf("without statistics, expected the walk newest first:\n%s", plan)
	}
	seedRareCode(t, db)
	var plan string
	for range 250 { // 5 s at most
		plan = explain(t, db.read, rarePage, rareArgs)
		if strings.Contains(plan, "sqlite_autoindex_resources_1") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	var rows int
	_ = db.write.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'resources'`).Scan(&rows)
	t.Fatalf("after 5 s (%d rows of statistics on resources) the read pool still plans:\n%s", rows, plan)
}

// rarePage is the first page of a code one of seedRareCode's resources
// holds: driven by the list of its resources once there are statistics.
const rarePage = `SELECT r.id FROM resources r WHERE r.tenant_id = ?1 AND r.type = ?2 AND r.id IN
	(SELECT i.id FROM token_idx i WHERE i.tenant_id = ?1 AND i.type = ?2 AND i.param = 'status' AND i.code = ?3)
	ORDER BY r.last_updated DESC LIMIT 21`

var rareArgs = []any{"t1", "Communication", "entered-in-error"}

// seedRareCode writes 2,000 Communications, one of them entered-in-error,
// the others completed.
func seedRareCode(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 1999)
		INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
		SELECT 't1', 'Communication', 'c' || i, 1, i, 0, x'7b7d' FROM s`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO token_idx (tenant_id, type, id, param, system, code)
		SELECT tenant_id, type, id, 'status', '', CASE id WHEN 'c7' THEN 'entered-in-error' ELSE 'completed' END FROM resources`); err != nil {
		t.Fatal(err)
	}
}

// Analyze (after an import) hands its statistics to readers that opened
// before it at once.
func TestAnalyzeRenewsReaders(t *testing.T) {
	db := openWithStatsEvery(t, time.Hour)
	if plan := explain(t, db.read, rarePage, rareArgs); !strings.Contains(plan, "resources_recent_first") {
		t.Fatalf("without statistics, expected the walk newest first:\n%s", plan)
	}
	seedRareCode(t, db)
	if err := db.Analyze(context.Background()); err != nil {
		t.Fatal(err)
	}
	if plan := explain(t, db.read, rarePage, rareArgs); !strings.Contains(plan, "sqlite_autoindex_resources_1") {
		t.Fatalf("after Analyze the read pool still plans:\n%s", plan)
	}
}

// openWithStatsEvery opens a migrated store (openMigrated) whose
// statistics upkeep runs every interval.
func openWithStatsEvery(t *testing.T, interval time.Duration) *DB {
	t.Helper()
	old := statsInterval
	statsInterval = interval
	t.Cleanup(func() { statsInterval = old })
	return openMigrated(t, t.TempDir())
}
