package postgres

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/migrations"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// Migrate must create its tables in the schema the URL's search_path names,
// never in a hard-coded one.
func TestMigrateFollowsSearchPath(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	var schema string
	var tables int
	err := db.pool.QueryRow(ctx, `SELECT current_schema(), count(*) FROM information_schema.tables
		WHERE table_schema = current_schema()`).Scan(&schema, &tables)
	if err != nil {
		t.Fatal(err)
	}
	if want := createdTables(t); !strings.HasPrefix(schema, "t_") || tables != want {
		t.Errorf("current schema %q has %d tables, want a t_ schema with %d", schema, tables, want)
	}
}

// createdTables counts the CREATE TABLE statements of the migrations, so the
// check above follows new migrations without edits.
func createdTables(t testing.TB) int {
	t.Helper()
	ms, err := migrations.List(migrations.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		n += len(regexp.MustCompile(`(?im)^\s*CREATE TABLE `).FindAllStringIndex(m.SQL, -1))
	}
	return n
}

// openMigrated opens a store on a schema of its own and migrates it.
func openMigrated(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// Bodies are compressed with lz4 (migration 0009), current, history and
// AuditEvent alike: a stored body over the size PostgreSQL compresses
// from comes back as lz4.
func TestBodiesCompressWithLZ4(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	var lz4 int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_attribute
		WHERE attrelid IN ('resources'::regclass, 'resource_history'::regclass, 'audit_events'::regclass)
		AND attname = 'body' AND attcompression = 'l'`).Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if lz4 != 3 {
		t.Errorf("%d of 3 body columns compress with lz4", lz4)
	}
	body := `{"resourceType":"Basic","id":"b1","text":{"div":"` + strings.Repeat("<p>a note</p>", 400) + `"}}`
	err := db.Tx(ctx, "t1", func(tx store.Tx) error {
		return tx.Put(ctx, store.Write{Record: store.Record{Type: "Basic", ID: "b1", Version: 1,
			LastUpdated: time.Now().UTC().Truncate(time.Microsecond), Body: []byte(body)}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"resources", "resource_history"} {
		var method string
		if err := db.pool.QueryRow(ctx, `SELECT coalesce(pg_column_compression(body), 'none') FROM `+table+` WHERE id = 'b1'`).Scan(&method); err != nil {
			t.Fatal(err)
		}
		if method != "lz4" {
			t.Errorf("%s: a body of %d bytes is stored with %s, want lz4", table, len(body), method)
		}
	}
}
