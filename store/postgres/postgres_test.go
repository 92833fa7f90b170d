package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
	"github.com/hearth-fhir/hearth/store/storetest"
)

func open(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t testing.TB) store.Store { return open(t, pgtest.URL(t)) })
}

// Servers starting together on an empty schema all migrate; the advisory
// lock makes them take turns.
func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.URL(t)
	dbs := []*postgres.DB{open(t, url), open(t, url), open(t, url)}
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

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on loopback: nothing listens there.
	_, err := postgres.Open(context.Background(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5")
	if !fhir.IsKind(err, fhir.KindUnavailable) {
		t.Fatalf("Open unreachable: %v, want unavailable", err)
	}
}
