package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// The connection settings are requirements, not tuning: durable commits
// (synchronous=FULL), WAL for concurrent readers, read-only readers; and
// statement journals in memory.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		pool   string
		q      queryer
		pragma string
		want   string
	}{
		{"write", db.write, "journal_mode", "wal"},
		{"write", db.write, "synchronous", "2"}, // FULL
		{"write", db.write, "foreign_keys", "1"},
		{"write", db.write, "busy_timeout", busyTimeoutMS},
		{"write", db.write, "query_only", "0"},
		{"write", db.write, "temp_store", "2"}, // MEMORY
		{"read", db.read, "journal_mode", "wal"},
		{"read", db.read, "foreign_keys", "1"},
		{"read", db.read, "query_only", "1"},
	} {
		t.Run(tc.pool+" "+tc.pragma, func(t *testing.T) {
			var got string
			if err := tc.q.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
			}
		})
	}
	if _, err := db.read.ExecContext(ctx, "CREATE TABLE x (y)"); err == nil {
		t.Error("the read pool can write")
	}
}
