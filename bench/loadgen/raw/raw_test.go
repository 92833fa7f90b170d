package raw_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/bench/loadgen"
	"github.com/hearth-fhir/hearth/bench/loadgen/raw"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
)

// TestRawSmoke runs every raw workload for a fraction of a second on both
// databases and checks the counts, and that the scratch tables are gone
// afterwards; never timings.
func TestRawSmoke(t *testing.T) {
	ctx := context.Background()
	opt := raw.Options{SeedCount: 2000, ReadSet: 10, MaxConns: 2, SyntheaDir: filepath.Join("..", "testdata")}
	tests := []struct {
		name string
		// open returns a runner, a count of its scratch objects, and a
		// count of rows in one of its scratch tables.
		open func(t *testing.T) (r *raw.Runner, scratch func() int, rows func(table, where string) int)
	}{
		{"postgres", func(t *testing.T) (*raw.Runner, func() int, func(string, string) int) {
			url := pgtest.URL(t)
			r, err := raw.OpenPostgres(ctx, url, opt)
			if err != nil {
				t.Fatal(err)
			}
			return r, func() int {
					return countPostgres(t, url, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, r.Scratch())
				}, func(table, where string) int {
					return countPostgres(t, url, "SELECT count(*) FROM "+r.Scratch()+"."+table+" WHERE "+where)
				}
		}},
		{"sqlite", func(t *testing.T) (*raw.Runner, func() int, func(string, string) int) {
			path := filepath.Join(t.TempDir(), "raw.db")
			r, err := raw.OpenSQLite(ctx, path, opt)
			if err != nil {
				t.Fatal(err)
			}
			return r, func() int {
					return countSQLite(t, path, `SELECT count(*) FROM sqlite_master WHERE name LIKE ? || '%'`, r.Scratch())
				}, func(table, where string) int {
					return countSQLite(t, path, "SELECT count(*) FROM "+r.Scratch()+table+" WHERE "+where)
				}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, scratch, rows := tc.open(t)
			if scratch() == 0 {
				t.Fatal("no scratch schema or tables while open")
			}
			results := loadgen.Run(ctx, r.Workloads(nil), loadgen.Settings{Target: r.Target(),
				Duration: 100 * time.Millisecond, Concurrency: []int{1, 2}})
			var imported uint64
			for _, res := range results {
				if res.Failed != "" || res.Unsupported != "" || res.Ops == 0 || res.ErrorCount() != 0 || res.Rate <= 0 {
					t.Errorf("%s c=%d: failed %q unsupported %q ops %d errors %s", res.Workload, res.Concurrency,
						res.Failed, res.Unsupported, res.Ops, res.ErrorSummary())
				}
				if res.Workload == "raw-import" {
					imported += res.Items
				}
			}
			checkImported(t, imported, rows)
			// The audited read and searches commit their audit rows; the
			// plain ones write none.
			reads, searches := 0, 0
			for _, res := range results {
				switch res.Workload {
				case "raw-read-audited":
					reads += int(res.Ops)
				case "raw-search-high-audited", "raw-search-low-audited", "raw-search-unique-audited":
					searches += int(res.Ops)
				}
			}
			if got := rows("audit_events", "action = 'R'"); got != reads || reads == 0 {
				t.Errorf("%d read audit rows after %d audited reads", got, reads)
			}
			if got := rows("audit_events", "action = 'E'"); got != searches || searches == 0 {
				t.Errorf("%d search audit rows after %d audited searches", got, searches)
			}
			checkWritten(t, rows)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if n := scratch(); n != 0 {
				t.Errorf("%d scratch objects left after Close", n)
			}
			if len(results) != 2*11 {
				t.Errorf("%d results, want 22", len(results))
			}
			if notes := strings.Join(r.Notes(), "\n"); !strings.Contains(notes, "raw-import: 1 bundles, 2 resources") {
				t.Errorf("notes do not describe the import set: %s", notes)
			}
			if notes := strings.Join(r.Notes(), "\n"); tc.name == "postgres" && !strings.Contains(notes, "durability settings synchronous_commit=") {
				t.Errorf("notes do not give the database's durability settings: %s", notes)
			}
		})
	}
}

// checkImported checks the rows raw-import wrote for the test Bundle (a
// Patient and an Observation of it, imported items/2 times): every
// resource with its history and audit rows, and the index rows Hearth's
// extractor makes, the Observation's subject resolved to the Patient.
func checkImported(t *testing.T, items uint64, rows func(table, where string) int) {
	t.Helper()
	if items == 0 || items%2 != 0 {
		t.Fatalf("raw-import counted %d resources, want a positive multiple of 2", items)
	}
	passes := int(items / 2)
	tests := []struct {
		table, where string
		want         int // per pass; -1: at least one
	}{
		{"resources", "type IN ('Patient', 'Observation')", 2},
		{"resource_history", "type IN ('Patient', 'Observation')", 2},
		{"audit_events", "type IN ('Patient', 'Observation')", 2},
		{"reference_idx", "type = 'Observation' AND param = 'subject' AND target_type = 'Patient'", 1},
		{"quantity_idx", "type = 'Observation' AND param = 'value-quantity'", -1},
		{"token_idx", "type = 'Observation' AND param = 'code' AND code = '8867-4'", 1},
		{"string_idx", "type = 'Patient' AND param = 'family' AND value = 'smoke'", 1},
		{"date_idx", "type = 'Patient' AND param = 'birthdate'", 1},
	}
	for _, tc := range tests {
		got := rows(tc.table, tc.where)
		if tc.want < 0 && got < passes || tc.want >= 0 && got != tc.want*passes {
			t.Errorf("%s WHERE %s: %d rows after %d imports, want %d each", tc.table, tc.where, got, passes, tc.want)
		}
	}
}

// checkWritten checks that raw-create and raw-update wrote the index rows
// Hearth writes for W1's Communication (string 1, date 2, reference 5 of
// its 11; the search set's seeding writes only tokens) for every resource
// they created, and that an update replaced them instead of adding more.
func checkWritten(t *testing.T, rows func(table, where string) int) {
	t.Helper()
	created := rows("resource_history", "type = 'Communication' AND version = 1")
	if updated := rows("resource_history", "type = 'Communication' AND version > 1"); created == 0 || updated == 0 {
		t.Fatalf("%d created and %d updated Communications, want some of each", created, updated)
	}
	for table, each := range map[string]int{"string_idx": 1, "date_idx": 2, "reference_idx": 5} {
		if got := rows(table, "type = 'Communication'"); got != each*created {
			t.Errorf("%s: %d Communication rows for %d resources, want %d each", table, got, created, each)
		}
	}
}

// TestRefusesRemoteDatabase: the raw runner does not connect to a database
// host that is not loopback unless told to.
func TestRefusesRemoteDatabase(t *testing.T) {
	_, err := raw.OpenPostgres(context.Background(), "postgres://bench@db.example.com:5432/hearth", raw.Options{})
	if err == nil {
		t.Fatal("OpenPostgres accepted a remote host")
	}
}

func countPostgres(t *testing.T, url, query string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countSQLite(t *testing.T, path, query string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
