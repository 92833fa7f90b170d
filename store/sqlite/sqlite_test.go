package sqlite_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/sqlite"
	"github.com/hearth-fhir/hearth/store/storetest"
)

func open(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open %s: %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store {
		return open(t, filepath.Join(t.TempDir(), "hearth.db"))
	})
}

// Two servers starting on one file both migrate; neither may fail.
func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hearth.db")
	dbs := []*sqlite.DB{open(t, path), open(t, path), open(t, path)}
	var wg sync.WaitGroup
	errs := make([]error, len(dbs))
	for i, db := range dbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Migrate(context.Background())
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate %d: %v", i, err)
		}
	}
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if db, err := sqlite.Open(context.Background(), path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", path)
		}
	}
}
