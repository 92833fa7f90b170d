package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

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

// The store analyses a table that changed a lot since its statistics were
// taken, whether or not autovacuum runs.
func TestAnalyzeStale(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	db := open(t, url)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	err := db.Tx(ctx, "t1", func(tx store.Tx) error {
		for i := range 400 {
			r := store.Record{Type: "Basic", ID: fmt.Sprint("b", i), Version: 1, LastUpdated: time.Unix(1, 0).UTC(),
				Body: []byte(fmt.Sprintf(`{"resourceType":"Basic","id":"b%d"}`, i))}
			if err := tx.Put(ctx, store.Write{Record: r}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// Table statistics reach pg_stat_user_tables within a second or so.
	for range 50 {
		if err := db.AnalyzeStale(ctx); err != nil {
			t.Fatal(err)
		}
		var analyzed bool
		if err := pool.QueryRow(ctx, `SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables
			WHERE schemaname = current_schema() AND relname = 'resources'`).Scan(&analyzed); err != nil {
			t.Fatal(err)
		}
		if analyzed {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("resources was never analysed after 400 inserts")
}

// A connection setting that lets acknowledged commits vanish in a crash is
// reported; the test server's defaults are not.
func TestUndurableSettings(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	durable, err := open(t, url).UndurableSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(durable, "synchronous_commit=off") {
		t.Fatalf("default connection settings reported as %v", durable)
	}
	got, err := open(t, pgtest.WithParam(url, "synchronous_commit", "off")).UndurableSettings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "synchronous_commit=off") || len(got) != len(durable)+1 {
		t.Fatalf("synchronous_commit=off connections reported as %v (defaults %v)", got, durable)
	}
}
