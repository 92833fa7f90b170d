package raw_test

import (
	"context"
	"database/sql"
	"path/filepath"
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
	opt := raw.Options{SeedCount: 2000, ReadSet: 10, MaxConns: 2}
	tests := []struct {
		name string
		// open returns a runner and a count of its scratch objects.
		open func(t *testing.T) (*raw.Runner, func() int)
	}{
		{"postgres", func(t *testing.T) (*raw.Runner, func() int) {
			url := pgtest.URL(t)
			r, err := raw.OpenPostgres(ctx, url, opt)
			if err != nil {
				t.Fatal(err)
			}
			return r, func() int {
				return countPostgres(t, url, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, r.Scratch())
			}
		}},
		{"sqlite", func(t *testing.T) (*raw.Runner, func() int) {
			path := filepath.Join(t.TempDir(), "raw.db")
			r, err := raw.OpenSQLite(ctx, path, opt)
			if err != nil {
				t.Fatal(err)
			}
			return r, func() int {
				return countSQLite(t, path, `SELECT count(*) FROM sqlite_master WHERE name LIKE ? || '%'`, r.Scratch())
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, scratch := tc.open(t)
			if scratch() == 0 {
				t.Fatal("no scratch schema or tables while open")
			}
			results := loadgen.Run(ctx, r.Workloads(nil), loadgen.Settings{Target: r.Target(),
				Duration: 100 * time.Millisecond, Concurrency: []int{1, 2}})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if n := scratch(); n != 0 {
				t.Errorf("%d scratch objects left after Close", n)
			}
			if len(results) != 2*6 {
				t.Errorf("%d results, want 12", len(results))
			}
			for _, res := range results {
				if res.Failed != "" || res.Unsupported != "" || res.Ops == 0 || res.ErrorCount() != 0 || res.Rate <= 0 {
					t.Errorf("%s c=%d: failed %q unsupported %q ops %d errors %s", res.Workload, res.Concurrency,
						res.Failed, res.Unsupported, res.Ops, res.ErrorSummary())
				}
			}
		})
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
