package sqlite

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/crypt"
)

// After DeleteTenantKeys no byte of the database files (main file, WAL,
// shared memory) holds the deleted keys: crypto-shredding must not leave the
// wrapped keys in free pages or in the log.
func TestDeleteTenantKeysLeavesNoBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openMigrated(t, dir)
	marker := func(tenant string, v int) []byte {
		return []byte(strings.Repeat("WRAPPED-KEY-"+tenant+"-", 8) + string(rune('0'+v)))
	}
	for _, tenant := range []string{"gone", "kept"} {
		for v := 1; v <= 3; v++ {
			err := db.AddTenantKey(ctx, crypt.WrappedKey{Tenant: tenant, Purpose: crypt.PurposeData, Version: v,
				KEKID: "local:test", Wrapped: marker(tenant, v), CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := countInFiles(t, dir, []byte("WRAPPED-KEY-gone")); n == 0 {
		t.Fatal("the keys are not in the files before deletion: the test looks in the wrong place")
	}
	if err := db.DeleteTenantKeys(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if n := countInFiles(t, dir, []byte("WRAPPED-KEY-gone")); n != 0 {
		t.Errorf("%d copies of deleted keys left in the database files", n)
	}
	if n := countInFiles(t, dir, []byte("WRAPPED-KEY-kept")); n == 0 {
		t.Error("the other tenant's keys vanished from the files")
	}
	keys, err := db.TenantKeys(ctx, "kept")
	if err != nil || len(keys) != 3 {
		t.Errorf("kept tenant: %d keys, %v", len(keys), err)
	}
	// The connection's secure_delete setting is back to what it was: other
	// deletes do not pay for zeroing.
	var mode int
	if err := db.write.QueryRowContext(ctx, "PRAGMA secure_delete").Scan(&mode); err != nil || mode != 0 {
		t.Errorf("secure_delete after shredding = %d, %v; want 0", mode, err)
	}
}

// After RewrapTenantKey and ScrubKeys no byte of the database files holds
// the old wrapping: a key wrapped by a retired master key (or, before tenant
// key directories, by the master key alone) must not survive in free space.
func TestRewrapLeavesNoOldBytes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openMigrated(t, dir)
	old := []byte(strings.Repeat("OLD-WRAPPING-", 6))
	var k crypt.WrappedKey
	for v := 1; v <= 3; v++ {
		k = crypt.WrappedKey{Tenant: "t", Purpose: crypt.PurposeData, Version: v, KEKID: "local:0123456789abcdef",
			Wrapped: append(bytes.Clone(old), byte('0'+v)), CreatedAt: time.Now()}
		if err := db.AddTenantKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	k.Version = 2
	if n := countInFiles(t, dir, old); n == 0 {
		t.Fatal("the key is not in the files: the test looks in the wrong place")
	}
	// A longer row: SQLite cannot overwrite it in place and frees the
	// old cell.
	k.KEKID, k.Wrapped = crypt.TenantDirID, bytes.Repeat([]byte("new"), 40)
	if err := db.RewrapTenantKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := db.ScrubKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countInFiles(t, dir, append(bytes.Clone(old), '2')); n != 0 {
		t.Errorf("%d copies of the old wrapping left in the database files", n)
	}
	if n := countInFiles(t, dir, append(bytes.Clone(old), '1')); n == 0 {
		t.Error("the other keys vanished from the files")
	}
	if keys, err := db.TenantKeys(ctx, "t"); err != nil || len(keys) != 3 || !bytes.Equal(keys[1].Wrapped, k.Wrapped) {
		t.Errorf("after rewrap: %+v, %v", keys, err)
	}
}

// openMigrated opens a migrated database in dir, closed when the test ends.
func openMigrated(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(dir, "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// countInFiles counts occurrences of b in every file of dir.
func countInFiles(t testing.TB, dir string, b []byte) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n += bytes.Count(data, b)
	}
	return n
}
