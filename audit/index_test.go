package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/migrations"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

const (
	sysRest    = "http://hl7.org/fhir/restful-interaction"
	sysType    = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysDICOM   = "http://dicom.nema.org/resources/ontology/DCM"
	testBase   = "http://hearth.test/fhir"
	serverName = "hearth"
)

// indexEvents are events of every shape the server records.
var indexEvents = map[string]audit.Event{
	"user read": {Interaction: "read", Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true,
		Address: "192.0.2.7", Entities: []audit.Ref{{"Communication", "m1", 3}}, Patients: []string{"Patient/pat1"}},
	"client create": {Interaction: "create", Subject: "ehr", ClientID: "ehr",
		Entities: []audit.Ref{{"Practitioner", "p9", 1}, {"Patient", "pat2", 4}}},
	"failed search": {Interaction: "search-type", Outcome: audit.MinorFailure, OutcomeDesc: "access denied",
		Subject: "u2", FhirUser: "Practitioner/p2", IsUser: true, Query: "Communication?subject=Patient/pat1"},
	"unknown user's failed login": {Auth: audit.LoginFailed, Outcome: audit.MinorFailure, IsUser: true, ClientID: "app", Address: "198.51.100.1"},
	"patient login":               {Auth: audit.Login, Subject: "u3", FhirUser: "Patient/pat3", IsUser: true, ClientID: "portal"},
	"operation":                   {Interaction: "operation", Operation: "$export", Subject: "ehr"},
	"other server's reference":    {Interaction: "read", Subject: "u4", FhirUser: "https://other.example/fhir/Practitioner/x", IsUser: true},
}

func rows(vs []store.AuditValue) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Param+" "+v.System+" "+v.Value)
	}
	slices.Sort(out)
	return out
}

// Each event's index values are what its AuditEvent says, each once.
func TestIndexValues(t *testing.T) {
	l := audit.NewLog(audit.ServerRef{Name: serverName, BaseURL: testBase})
	common := func(outcome, typ string) []string {
		return []string{"outcome  " + outcome, "source Device hearth", "type " + typ}
	}
	want := map[string][]string{
		"user read": append(common("0", sysType+" rest"),
			"subtype "+sysRest+" read", "agent Practitioner p1", "agent:identifier "+audit.SysSubject+" u1",
			"agent:identifier "+audit.SysClient+" app", "entity Communication m1", "entity Patient pat1"),
		"client create": append(common("0", sysType+" rest"),
			"subtype "+sysRest+" create", "agent:identifier "+audit.SysClient+" ehr",
			"entity Practitioner p9", "entity Patient pat2"),
		"failed search": append(common("4", sysType+" rest"),
			"subtype "+sysRest+" search-type", "agent Practitioner p2", "agent:identifier "+audit.SysSubject+" u2"),
		"unknown user's failed login": append(common("4", sysDICOM+" 110114"),
			"subtype "+sysDICOM+" 110122", "agent:identifier "+audit.SysClient+" app"),
		"patient login": append(common("0", sysDICOM+" 110114"),
			"subtype "+sysDICOM+" 110122", "agent Patient pat3",
			"agent:identifier "+audit.SysSubject+" u3", "agent:identifier "+audit.SysClient+" portal"),
		"operation": append(common("0", sysType+" rest"),
			"subtype "+sysRest+" operation", "subtype "+audit.SysAuthEvent+"-operation $export",
			"agent:identifier "+audit.SysClient+" ehr"),
		"other server's reference": append(common("0", sysType+" rest"),
			"subtype "+sysRest+" read", "agent  https://other.example/fhir/Practitioner/x", "agent:identifier "+audit.SysSubject+" u4"),
	}
	for name, ev := range indexEvents {
		rec, err := l.Record(ev)
		if err != nil {
			t.Fatal(err)
		}
		w := want[name]
		slices.Sort(w)
		if got := rows(rec.Index); !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, w)
		}
	}
	// A reference under the server's own base is local, as in searches.
	rec, err := l.Record(audit.Event{Interaction: "read", IsUser: true, FhirUser: testBase + "/Practitioner/p5"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rows(rec.Index), "agent Practitioner p5") {
		t.Errorf("absolute reference under the base: %q", rows(rec.Index))
	}
}

// rawDB runs statements on a store's database behind its back.
type rawDB struct {
	exec  func(t testing.TB, sql string, args ...any)
	index func(t testing.TB, tenant string) []string // "seq recorded param system value", sorted
}

// indexStores opens a migrated store of each backend with raw access to
// its tables.
func indexStores(t *testing.T) map[string]func(t *testing.T) (store.Store, rawDB) {
	return map[string]func(t *testing.T) (store.Store, rawDB){
		"sqlite": func(t *testing.T) (store.Store, rawDB) {
			path := filepath.Join(t.TempDir(), "hearth.db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return st, rawDB{
				exec: func(t testing.TB, q string, args ...any) {
					t.Helper()
					if _, err := raw.Exec(q, args...); err != nil {
						t.Fatalf("%.60s: %v", q, err)
					}
				},
				index: func(t testing.TB, tenant string) []string {
					t.Helper()
					rs, err := raw.Query(`SELECT seq, recorded, param, system, value FROM audit_index WHERE tenant_id = ?`, tenant)
					if err != nil {
						t.Fatal(err)
					}
					defer rs.Close()
					return collectIndex(t, rs.Next, rs.Scan, rs.Err)
				},
			}
		},
		"postgres": func(t *testing.T) (store.Store, rawDB) {
			url := pgtest.URL(t)
			ctx := context.Background()
			st, err := postgres.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close(context.Background()) })
			return st, rawDB{
				exec: func(t testing.TB, q string, args ...any) {
					t.Helper()
					if _, err := conn.Exec(ctx, q, args...); err != nil {
						t.Fatalf("%.60s: %v", q, err)
					}
				},
				index: func(t testing.TB, tenant string) []string {
					t.Helper()
					rs, err := conn.Query(ctx, `SELECT seq, recorded, param, system, value FROM audit_index WHERE tenant_id = $1`, tenant)
					if err != nil {
						t.Fatal(err)
					}
					defer rs.Close()
					return collectIndex(t, rs.Next, rs.Scan, rs.Err)
				},
			}
		},
	}
}

func collectIndex(t testing.TB, next func() bool, scan func(...any) error, errf func() error) []string {
	t.Helper()
	var out []string
	for next() {
		var seq, recorded int64
		var p, s, v string
		if err := scan(&seq, &recorded, &p, &s, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %d %s %s %s", seq, recorded, p, s, v))
	}
	if err := errf(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// sealedLike replaces a search event's query and description the way field
// encryption stores them, as objects the backfill must not trip over.
var sealedLike = regexp.MustCompile(`"(description|query)":"[^"]*"`)

// Migration 0008 indexes entries appended before the index existed with
// exactly the values an append writes today; and a purge removes the
// index values of the entries it removes, no more.
func TestBackfillMatchesAppend(t *testing.T) {
	backfill := map[string]string{}
	for _, dialect := range []string{migrations.SQLite, migrations.Postgres} {
		ms, err := migrations.List(dialect)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Name == "0008_audit_index_backfill.sql" {
				backfill[dialect] = m.SQL
			}
		}
		if backfill[dialect] == "" {
			t.Fatalf("no backfill migration for %s", dialect)
		}
	}
	ctx := context.Background()
	for backend, open := range indexStores(t) {
		t.Run(backend, func(t *testing.T) {
			st, raw := open(t)
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// The backfill reads relative references only; an absolute one
			// under the server's base is an append-time refinement.
			l := audit.NewLog(audit.ServerRef{Name: serverName})
			var recs []audit.Record
			for _, name := range slices.Sorted(maps.Keys(indexEvents)) {
				rec, err := l.Record(indexEvents[name])
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec)
				if name == "failed search" {
					sealed := rec
					sealed.ID += "-sealed"
					sealed.Body = sealedLike.ReplaceAll([]byte(strings.Replace(string(rec.Body), rec.ID, sealed.ID, 1)), []byte(`"$1":{"_enc":"AAAA"}`))
					if string(sealed.Body) == string(rec.Body) || !strings.Contains(string(sealed.Body), `"query":{"_enc"`) {
						t.Fatalf("no sealed-like body: %s", sealed.Body)
					}
					recs = append(recs, sealed)
				}
			}
			for _, tenant := range []string{"t1", "t2"} {
				if err := st.Tx(ctx, tenant, func(tx store.Tx) error { return audit.Append(ctx, tx, recs...) }); err != nil {
					t.Fatal(err)
				}
			}
			appended := raw.index(t, "t1")
			if len(appended) < 4*len(recs) {
				t.Fatalf("appends wrote %d index values for %d entries", len(appended), len(recs))
			}
			raw.exec(t, `DELETE FROM audit_index`)
			raw.exec(t, backfill[backend])
			if got := raw.index(t, "t1"); !slices.Equal(got, appended) {
				t.Errorf("backfill:\n got %q\nwant %q", got, appended)
			}
			if got := raw.index(t, "t2"); !slices.Equal(got, appended) {
				t.Errorf("backfill of the second tenant differs")
			}

			// A purge of t1's first three entries takes their values only.
			log := st.(store.AuditLog)
			page, err := log.SearchAudit(ctx, "t1", store.AuditSearch{Count: 3, Oldest: true})
			if err != nil || len(page.Entries) != 3 {
				t.Fatalf("first entries: %+v, %v", page, err)
			}
			// Every entry was recorded at once; move the first three back.
			raw.exec(t, `UPDATE audit_events SET recorded = recorded - 1000000 WHERE tenant_id = 't1' AND seq <= 3`)
			if n, err := log.PurgeAudit(ctx, "t1", page.Entries[0].Recorded); err != nil || n != 3 {
				t.Fatalf("PurgeAudit = %d, %v", n, err)
			}
			var kept []string
			for _, r := range appended {
				if seq := strings.Fields(r)[0]; seq != "1" && seq != "2" && seq != "3" {
					kept = append(kept, r)
				}
			}
			if got := raw.index(t, "t1"); !slices.Equal(got, kept) || len(kept) == len(appended) {
				t.Errorf("after purge: %d index values, want %d", len(got), len(kept))
			}
			if got := raw.index(t, "t2"); !slices.Equal(got, appended) {
				t.Errorf("a purge of t1 touched t2's index")
			}
			if rep, err := audit.Verify(ctx, log, "t1"); err != nil || rep.Break != nil {
				t.Errorf("verify after purge: %+v, %v", rep, err)
			}
		})
	}
}
