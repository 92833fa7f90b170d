package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/internal/sqlbase"
	"github.com/hearth-fhir/hearth/store/storetest"
)

// With every plain criterion written as a correlated EXISTS (CommonRows 1)
// the store answers the whole contract as it does with IN lists.
func TestContractCommonCriteria(t *testing.T) {
	old := dialect
	dialect.CommonRows = 1
	t.Cleanup(func() { dialect = old })
	storetest.Run(t, func(t testing.TB) store.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "hearth.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// recorder runs searches on the read pool and keeps their statements.
type recorder struct {
	searcher
	sql  []string
	args [][]any
}

func (r *recorder) Query(ctx context.Context, q string, args []any, fn func(sqlbase.Scanner) error) error {
	r.sql, r.args = append(r.sql, q), append(r.args, args)
	return r.searcher.Query(ctx, q, args, fn)
}

// A code that commonRows resources or more hold is searched newest first by
// walking resources_recent_first and probing each resource's index rows; a
// rare code through the list of its resources.
func TestCommonCodeWalksRecentFirst(t *testing.T) {
	ctx := context.Background()
	db := openWithStatsEvery(t, time.Hour)
	// commonRows + 500 Communications: all but three "completed", three
	// "on-hold"; resource i was last updated at i ms.
	n := commonRows + 500
	if _, err := db.write.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ?1 - 1)
		INSERT INTO resources (tenant_id, type, id, version, last_updated, deleted, body)
		SELECT 't1', 'Communication', printf('c%05d', i), 1, i, 0, x'7b7d' FROM s`, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.write.ExecContext(ctx, `INSERT INTO token_idx (tenant_id, type, id, param, system, code)
		SELECT tenant_id, type, id, 'status', 'http://hl7.org/fhir/event-status',
			CASE WHEN id IN ('c00007', 'c00500', 'c01200') THEN 'on-hold' ELSE 'completed' END FROM resources`); err != nil {
		t.Fatal(err)
	}
	if err := db.optimize(ctx); err != nil {
		t.Fatal(err)
	}
	reg, err := search.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, form, plan string
		first            string
		matches          int
	}{
		{"completed", "EXISTS (SELECT 1 FROM token_idx", "resources_recent_first", "c01499", 20},
		{"on-hold", ".id IN (SELECT", "LIST SUBQUERY", "c01200", 3},
	} {
		t.Run(tc.code, func(t *testing.T) {
			q, err := reg.Parse("Communication", "status="+tc.code+"&_sort=-_lastUpdated", search.ParseOptions{Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{searcher: searcher{db.read}}
			page, err := sqlbase.Search(ctx, rec, dialect, "t1", store.SearchQuery{Types: q.Types, Where: q.Criteria, Sort: q.Sort, Count: 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Records) != tc.matches || page.Records[0].ID != tc.first {
				t.Fatalf("%d matches starting at %v, want %d starting at %s", len(page.Records), page.Records, tc.matches, tc.first)
			}
			last := len(rec.sql) - 1
			if !strings.Contains(rec.sql[last], tc.form) {
				t.Errorf("page statement without %q: %s", tc.form, rec.sql[last])
			}
			plan := explain(t, db.read, rec.sql[last], rec.args[last])
			if !strings.Contains(plan, tc.plan) {
				t.Errorf("plan without %q:\n%s", tc.plan, plan)
			}
		})
	}
}

func explain(t *testing.T, db *sql.DB, q string, args []any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}
