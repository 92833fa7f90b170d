package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// Migrate must create its tables in the schema the URL's search_path names,
// never in a hard-coded one.
func TestMigrateFollowsSearchPath(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var schema string
	var tables int
	err = db.pool.QueryRow(ctx, `SELECT current_schema(), count(*) FROM information_schema.tables
		WHERE table_schema = current_schema()`).Scan(&schema, &tables)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "t_") || tables != 19 {
		t.Errorf("current schema %q has %d tables, want a t_ schema with 19", schema, tables)
	}
}
