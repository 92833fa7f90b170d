package audit_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hearth-fhir/hearth/audit"
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

// The index keeps no row for a parameter whose only value is its default
// (store.AuditDefaults); every other value stays.
func TestIndexValuesLeaveOutDefaults(t *testing.T) {
	l := audit.NewLog(audit.ServerRef{Name: serverName, BaseURL: testBase})
	params := func(vs []store.AuditValue) []string {
		var out []string
		for _, v := range vs {
			if _, ok := store.AuditDefaults[v.Param]; ok {
				out = append(out, v.Param+" "+v.Value)
			}
		}
		slices.Sort(out)
		return out
	}
	want := map[string][]string{
		"user read":     nil,
		"client create": {"subtype create"},
		"failed search": {"outcome 4", "subtype search-type"},
		"operation":     {"subtype $export", "subtype operation"},
	}
	for name, w := range want {
		rec, err := l.Record(indexEvents[name])
		if err != nil {
			t.Fatal(err)
		}
		kept := audit.IndexValues(rec.Body, testBase)
		if got := params(kept); !slices.Equal(got, w) {
			t.Errorf("%s: kept %q of the defaulted parameters, want %q", name, got, w)
		}
		// Only defaults go.
		all := audit.ValuesOf(rec.Body, testBase)
		for _, v := range all {
			if _, ok := store.AuditDefaults[v.Param]; !ok && !slices.Contains(kept, v) {
				t.Errorf("%s: %+v left out", name, v)
			}
		}
	}
	other := audit.NewLog(audit.ServerRef{Name: "other", BaseURL: testBase})
	rec, err := other.Record(indexEvents["user read"])
	if err != nil {
		t.Fatal(err)
	}
	if got := params(audit.IndexValues(rec.Body, testBase)); !slices.Equal(got, []string{"source other"}) {
		t.Errorf("a server named other: %q, want its source kept", got)
	}
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
		if got := rows(audit.ValuesOf(rec.Body, testBase)); !slices.Equal(got, w) {
			t.Errorf("%s:\n got %q\nwant %q", name, got, w)
		}
	}
	// A reference under the server's own base is local, as in searches.
	rec, err := l.Record(audit.Event{Interaction: "read", IsUser: true, FhirUser: testBase + "/Practitioner/p5"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(audit.ValuesOf(rec.Body, testBase)); !slices.Contains(got, "agent Practitioner p5") {
		t.Errorf("absolute reference under the base: %q", got)
	}
	if got := audit.ValuesOf([]byte(`not json`), testBase); got != nil {
		t.Errorf("values of a broken body: %q", got)
	}
}

// Elements sealed by field encryption are envelopes where the element was;
// they yield no values, and the rest of the event is still indexed.
func TestIndexValuesSealed(t *testing.T) {
	l := audit.NewLog(audit.ServerRef{Name: serverName, BaseURL: testBase})
	rec, err := l.Record(indexEvents["failed search"])
	if err != nil {
		t.Fatal(err)
	}
	plain := rows(audit.ValuesOf(rec.Body, testBase))
	env := `{"_enc":"AAAA"}`
	for _, tc := range []struct {
		element, from string
		gone          []string // parameters that lose their values
	}{
		{"query and description", `"(description|query)":"[^"]*"`, nil},
		{"agent", `"agent":\[.*?\],"source"`, []string{"agent", "agent:identifier"}},
		{"outcome", `"outcome":"4"`, []string{"outcome"}},
		{"subtype", `"subtype":\[[^\]]*\]`, []string{"subtype"}},
		{"type", `"type":\{"system":"[^"]*","code":"rest","display":"[^"]*"\}`, []string{"type"}},
	} {
		re := regexp.MustCompile(tc.from)
		body := re.ReplaceAllStringFunc(string(rec.Body), func(m string) string {
			name := m[1 : strings.Index(m[1:], `"`)+1]
			if tc.element == "agent" {
				return `"agent":` + env + `,"source"`
			}
			return `"` + name + `":` + env
		})
		if body == string(rec.Body) {
			t.Fatalf("%s: nothing sealed", tc.element)
		}
		var want []string
		for _, r := range plain {
			if !slices.Contains(tc.gone, strings.Fields(r)[0]) {
				want = append(want, r)
			}
		}
		if got := rows(audit.ValuesOf([]byte(body), testBase)); !slices.Equal(got, want) {
			t.Errorf("%s sealed:\n got %q\nwant %q", tc.element, got, want)
		}
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

// Index writes the values of the entries past the index position, a
// batch at a time, and nothing twice, also when indexers run at once; a
// purge removes the values with the entries, and entries purged before
// they were indexed leave none behind.
func TestIndexAndPurge(t *testing.T) {
	ctx := context.Background()
	l := audit.NewLog(audit.ServerRef{Name: serverName})
	var recs []audit.Record
	wantPer := map[string]int{}
	for _, name := range slices.Sorted(maps.Keys(indexEvents)) {
		rec, err := l.Record(indexEvents[name])
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
		wantPer[rec.ID] = len(audit.IndexValues(rec.Body, ""))
	}
	for backend, open := range indexStores(t) {
		t.Run(backend, func(t *testing.T) {
			st, raw := open(t)
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			log := st.(store.AuditLog)
			appendRecs := func(tenant string, rs []audit.Record) {
				t.Helper()
				if err := st.Tx(ctx, tenant, func(tx store.Tx) error { return audit.Append(ctx, tx, rs...) }); err != nil {
					t.Fatal(err)
				}
			}
			// 250 entries: more than one batch.
			var many []audit.Record
			for i := range 250 {
				r := recs[i%len(recs)]
				r.ID = fmt.Sprintf("%s-%d", r.ID, i)
				r.Body = []byte(strings.Replace(string(r.Body), recs[i%len(recs)].ID, r.ID, 1))
				many = append(many, r)
			}
			appendRecs("t1", many)
			appendRecs("t2", recs)
			want := 0
			for i := range many {
				want += wantPer[recs[i%len(recs)].ID]
			}
			// Two indexers at once write every value once.
			var wg sync.WaitGroup
			counts := make([]int, 2)
			for i := range counts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := audit.Index(ctx, log, "t1", "")
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				}()
			}
			wg.Wait()
			if got := len(raw.index(t, "t1")); got != want || counts[0]+counts[1] != 250 {
				t.Errorf("t1: %d index values, want %d; the indexers indexed %v entries", got, want, counts)
			}
			if n, err := audit.IndexAll(ctx, log, ""); err != nil || n != len(recs) {
				t.Errorf("IndexAll = %d, %v; want t2's %d", n, err, len(recs))
			}
			if n, err := audit.Index(ctx, log, "t1", ""); err != nil || n != 0 {
				t.Errorf("Index when caught up = %d, %v", n, err)
			}

			// A purge of t1's first 100 entries takes their values only.
			raw.exec(t, `UPDATE audit_events SET recorded = recorded - 100000000000 WHERE tenant_id = 't1' AND seq <= 100`)
			if n, err := log.PurgeAudit(ctx, "t1", time.Now().Add(-time.Hour)); err != nil || n != 100 {
				t.Fatalf("PurgeAudit = %d, %v", n, err)
			}
			for _, r := range raw.index(t, "t1") {
				if seq, _ := strconv.Atoi(strings.Fields(r)[0]); seq <= 100 {
					t.Fatalf("value of a purged entry left: %s", r)
				}
			}
			if got := len(raw.index(t, "t2")); got == 0 {
				t.Error("a purge of t1 touched t2's index")
			}
			// Entries purged before they were indexed: the position moves
			// past them and nothing of them is written.
			appendRecs("t1", recs)
			raw.exec(t, `UPDATE audit_events SET recorded = recorded - 100000000000 WHERE tenant_id = 't1'`)
			if _, err := log.PurgeAudit(ctx, "t1", time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n, err := audit.Index(ctx, log, "t1", ""); err != nil || n != 0 {
				t.Errorf("Index after everything was purged = %d, %v", n, err)
			}
			if got := raw.index(t, "t1"); len(got) != 0 {
				t.Errorf("values left after everything was purged: %q", got)
			}
			head, _ := log.AuditChain(ctx, "t1")
			if at, err := log.AuditIndexed(ctx, "t1"); err != nil || at != head.Seq {
				t.Errorf("index position %d, %v; head %d", at, err, head.Seq)
			}
			if rep, err := audit.Verify(ctx, log, "t1"); err != nil || rep.Break != nil {
				t.Errorf("verify after purge: %+v, %v", rep, err)
			}
		})
	}
}
