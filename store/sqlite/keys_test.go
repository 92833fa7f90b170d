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
	db, err := Open(ctx, filepath.Join(dir, "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
