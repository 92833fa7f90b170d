package postgres

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/migrations"
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
