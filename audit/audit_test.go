package audit_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

var when = time.Date(2025, 1, 2, 3, 4, 5, 678901000, time.UTC)

func validator(t testing.TB) *fhir.Validator {
	t.Helper()
	v, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Every kind of event builds an AuditEvent the strict R4 validator accepts,
// with the BALP elements in place.
func TestBuildValid(t *testing.T) {
	v := validator(t)
	user := audit.Event{Subject: "u1", FhirUser: "Practitioner/p1", ClientID: "app", IsUser: true, Address: "192.0.2.7"}
	client := audit.Event{Subject: "c1", ClientID: "c1", Address: "2001:db8::1"}
	with := func(base audit.Event, f func(*audit.Event)) audit.Event {
		f(&base)
		return base
	}
	tests := []struct {
		name    string
		ev      audit.Event
		action  string
		profile string
	}{
		{"read", with(user, func(e *audit.Event) {
			e.Interaction = "read"
			e.Entities = []audit.Ref{{"Communication", "m1", 3}}
			e.Patients = []string{"Patient/pat1"}
		}), "R", "PatientRead"},
		{"create", with(client, func(e *audit.Event) {
			e.Interaction = "create"
			e.Entities = []audit.Ref{{"Practitioner", "p9", 1}}
		}), "C", "Create"},
		{"update", with(user, func(e *audit.Event) { e.Interaction = "update"; e.Entities = []audit.Ref{{"Practitioner", "p1", 2}} }), "U", "Update"},
		{"patch", with(user, func(e *audit.Event) { e.Interaction = "patch"; e.Entities = []audit.Ref{{"Practitioner", "p1", 3}} }), "U", "Update"},
		{"delete", with(client, func(e *audit.Event) { e.Interaction = "delete"; e.Entities = []audit.Ref{{"Communication", "m1", 0}} }), "D", "Delete"},
		{"search", with(user, func(e *audit.Event) {
			e.Interaction = "search-type"
			e.Query = "Communication?recipient=Practitioner/p1&_count=10"
			e.Entities = []audit.Ref{{"Communication", "m1", 0}, {"Communication", "m2", 0}}
		}), "E", "Query"},
		{"history", with(client, func(e *audit.Event) { e.Interaction = "history-system" }), "E", "Query"},
		{"denied read", with(user, func(e *audit.Event) {
			e.Interaction = "read"
			e.Outcome = audit.MinorFailure
			e.OutcomeDesc = "no rule lets this caller read Communication"
			e.Entities = []audit.Ref{{"Communication", "m2", 0}}
		}), "R", "Read"},
		{"server error", with(client, func(e *audit.Event) { e.Interaction = "vread"; e.Outcome = audit.SeriousFailure }), "R", "Read"},
		{"transaction", with(client, func(e *audit.Event) { e.Interaction = "transaction" }), "E", ""},
		{"operation", with(client, func(e *audit.Event) { e.Interaction = "operation"; e.Operation = "$export" }), "E", ""},
		{"login", with(user, func(e *audit.Event) { e.Auth = audit.Login }), "E", ""},
		{"login failed", with(user, func(e *audit.Event) { e.Auth = audit.LoginFailed; e.Outcome = audit.MinorFailure; e.FhirUser = "" }), "E", ""},
		{"logout", with(user, func(e *audit.Event) { e.Auth = audit.Logout }), "E", ""},
		{"token", with(client, func(e *audit.Event) { e.Auth = audit.TokenIssued }), "E", ""},
		{"refresh", with(user, func(e *audit.Event) { e.Auth = audit.TokenRefreshed }), "E", ""},
		{"password", with(user, func(e *audit.Event) { e.Auth = audit.PasswordChange }), "E", ""},
		{"lockout", with(user, func(e *audit.Event) { e.Auth = audit.Lockout; e.Outcome = audit.MinorFailure }), "E", ""},
		{"mfa", with(user, func(e *audit.Event) { e.Auth = audit.MFAFailure; e.Outcome = audit.MinorFailure }), "E", ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.ev.ID = fmt.Sprintf("ae-%d", i)
			tc.ev.Recorded = when
			tc.ev.Server = audit.ServerRef{Name: "hearth", BaseURL: "https://h.example/fhir"}
			body, err := audit.Build(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(body); err != nil {
				t.Fatalf("invalid AuditEvent: %v\n%s", err, body)
			}
			var ae struct {
				Meta *struct {
					Profile []string `json:"profile"`
				} `json:"meta"`
				Action   string `json:"action"`
				Outcome  string `json:"outcome"`
				Recorded string `json:"recorded"`
				Agent    []struct {
					Type struct {
						Coding []struct{ Code string } `json:"coding"`
					} `json:"type"`
					Who *struct {
						Reference  string `json:"reference"`
						Identifier *struct{ Value string }
					} `json:"who"`
					Requestor bool `json:"requestor"`
					Network   *struct{ Address, Type string }
				} `json:"agent"`
				Entity []struct {
					What  *struct{ Reference string } `json:"what"`
					Role  struct{ Code string }       `json:"role"`
					Query string                      `json:"query"`
				} `json:"entity"`
			}
			if err := json.Unmarshal(body, &ae); err != nil {
				t.Fatal(err)
			}
			if ae.Action != tc.action {
				t.Errorf("action = %q, want %q", ae.Action, tc.action)
			}
			want := string(tc.ev.Outcome)
			if want == "" {
				want = "0"
			}
			if ae.Outcome != want || ae.Recorded != "2025-01-02T03:04:05.678901Z" {
				t.Errorf("outcome %q recorded %q", ae.Outcome, ae.Recorded)
			}
			if tc.profile != "" && (ae.Meta == nil || !strings.HasSuffix(ae.Meta.Profile[0], "IHE.BasicAudit."+tc.profile)) {
				t.Errorf("meta = %+v, want profile %s", ae.Meta, tc.profile)
			}
			// Agents: the user (when a person acts), the client with its
			// address, and the server.
			codes := []string{}
			for _, a := range ae.Agent {
				codes = append(codes, a.Type.Coding[0].Code)
			}
			wantCodes := "110153,110152"
			if tc.ev.IsUser {
				wantCodes = "IRCP," + wantCodes
				if ae.Agent[0].Who.Identifier.Value != "u1" || !ae.Agent[0].Requestor || ae.Agent[0].Who.Reference != tc.ev.FhirUser {
					t.Errorf("user agent = %+v", ae.Agent[0])
				}
			}
			if got := strings.Join(codes, ","); got != wantCodes {
				t.Errorf("agents %s, want %s", got, wantCodes)
			}
			clientAgent := ae.Agent[len(ae.Agent)-2]
			if clientAgent.Network == nil || clientAgent.Network.Address != tc.ev.Address || clientAgent.Network.Type != "2" {
				t.Errorf("client network = %+v", clientAgent.Network)
			}
			nEntities := len(tc.ev.Entities) + len(tc.ev.Patients)
			if tc.ev.Query != "" {
				nEntities++
				q := ae.Entity[len(ae.Entity)-1]
				if dec, _ := base64.StdEncoding.DecodeString(q.Query); string(dec) != tc.ev.Query || q.Role.Code != "24" {
					t.Errorf("query entity = %+v", q)
				}
			}
			if len(ae.Entity) != nEntities {
				t.Errorf("%d entities, want %d", len(ae.Entity), nEntities)
			}
		})
	}
}

func TestBuildRefusesNonsense(t *testing.T) {
	for _, ev := range []audit.Event{
		{},
		{ID: "x", Recorded: when},
		{ID: "x", Recorded: when, Interaction: "read", Auth: audit.Login},
		{ID: "x", Recorded: when, Interaction: "frobnicate"},
		{ID: "x", Recorded: when, Auth: "frobnicate"},
	} {
		if _, err := audit.Build(ev); err == nil {
			t.Errorf("Build(%+v) succeeded", ev)
		}
	}
}

func TestPatients(t *testing.T) {
	tests := []struct {
		typ, id, body string
		want          string
	}{
		{"Patient", "p1", `{"resourceType":"Patient","id":"p1"}`, "Patient/p1"},
		{"Communication", "m", `{"resourceType":"Communication","subject":{"reference":"Patient/p2"},"recipient":[{"reference":"Practitioner/x"},{"reference":"https://h/fhir/Patient/p3/_history/2"}]}`, "Patient/p2 Patient/p3"},
		{"Observation", "o", `{"resourceType":"Observation","subject":{"reference":"Group/g"}}`, ""},
		{"Observation", "o", `{"resourceType":"Observation","note":[{"text":"see Patient/p9"}]}`, ""},
	}
	for _, tc := range tests {
		if got := strings.Join(audit.Patients(tc.typ, tc.id, []byte(tc.body)), " "); got != tc.want {
			t.Errorf("Patients(%s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func openStore(t testing.TB) *sqlite.DB {
	db, _ := openStoreAt(t)
	return db
}

func openStoreAt(t testing.TB) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hearth.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// tamper runs statement on the database file behind the store's back.
func tamper(t testing.TB, path, statement string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(statement); err != nil {
		t.Fatal(err)
	}
}

func record(t testing.TB, l *audit.Log, i int) audit.Record {
	t.Helper()
	r, err := l.Record(audit.Event{Interaction: "read", Subject: "c1", ClientID: "c1",
		Entities: []audit.Ref{{"Patient", fmt.Sprint(i), 1}}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func appendN(t testing.TB, db *sqlite.DB, l *audit.Log, tenant string, n int) {
	t.Helper()
	for i := range n {
		r := record(t, l, i)
		if err := db.Tx(context.Background(), tenant, func(tx store.Tx) error { return audit.Append(context.Background(), tx, r) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	l := audit.NewLog(audit.ServerRef{Name: "hearth"})
	appendN(t, db, l, "t1", 25)
	rep, err := audit.Verify(ctx, db, "t1")
	if err != nil || rep.Break != nil || rep.Checked != 25 || rep.First != 1 || rep.Last != 25 {
		t.Fatalf("Verify = %+v %v, %v", rep, rep.Break, err)
	}
	if _, err := audit.Verify(ctx, db, "nobody"); !fhir.IsKind(err, fhir.KindNotFound) {
		t.Errorf("Verify of a tenant without a chain: %v", err)
	}
}

// Each way of tampering is caught at the entry it touched.
func TestVerifyFindsTampering(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		sql     string
		seq     int64
		because string
	}{
		{"body edited", `UPDATE audit_events SET body = replace(body, '"outcome":"0"', '"outcome":"4"') WHERE seq = 7`, 7, "hash does not match"},
		{"entry removed", `DELETE FROM audit_events WHERE seq = 7`, 7, "missing"},
		{"hash recomputed elsewhere", `UPDATE audit_events SET hash = zeroblob(32) WHERE seq = 7`, 7, "hash does not match"},
		{"tail cut", `DELETE FROM audit_events WHERE seq >= 9`, 9, "missing"},
		{"id swapped", `UPDATE audit_events SET id = 'other' WHERE seq = 7`, 7, "id does not match"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, path := openStoreAt(t)
			l := audit.NewLog(audit.ServerRef{Name: "hearth"})
			appendN(t, db, l, "t1", 10)
			tamper(t, path, tc.sql)
			rep, err := audit.Verify(ctx, db, "t1")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Break == nil || rep.Break.Seq != tc.seq || !strings.Contains(rep.Break.Reason, tc.because) {
				t.Errorf("Break = %+v, want entry %d (%s)", rep.Break, tc.seq, tc.because)
			}
		})
	}
}

// After a purge the rest of the chain still verifies from its anchor.
func TestVerifyAfterPurge(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	now := when
	l := audit.NewLog(audit.ServerRef{Name: "hearth"}, audit.WithClock(func() time.Time { now = now.Add(time.Second); return now }))
	appendN(t, db, l, "t1", 10)
	if n, err := db.PurgeAudit(ctx, "t1", when.Add(4500*time.Millisecond)); err != nil || n != 4 {
		t.Fatalf("PurgeAudit = %d, %v", n, err)
	}
	rep, err := audit.Verify(ctx, db, "t1")
	if err != nil || rep.Break != nil || rep.Checked != 6 || rep.First != 5 {
		t.Fatalf("Verify after purge = %+v, %v", rep, err)
	}
}

func TestCommitterGroupsConcurrentCommits(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	counter := &countingTx{TxRunner: db}
	c := audit.NewCommitter(counter)
	defer c.Close()
	l := audit.NewLog(audit.ServerRef{Name: "hearth"})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tenant := []string{"t1", "t2"}[i%2]
			errs <- c.Commit(ctx, tenant, record(t, l, i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tenant := range []string{"t1", "t2"} {
		rep, err := audit.Verify(ctx, db, tenant)
		if err != nil || rep.Break != nil || rep.Checked != n/2 {
			t.Errorf("%s: Verify = %+v, %v", tenant, rep, err)
		}
	}
	if got := counter.n.Load(); got >= n {
		t.Errorf("%d transactions for %d commits: no grouping", got, n)
	} else {
		t.Logf("%d commits in %d transactions", n, got)
	}
	c.Close()
	if err := c.Commit(ctx, "t1", record(t, l, 0)); err != audit.ErrClosed {
		t.Errorf("Commit after Close = %v", err)
	}
}

// A failed append fails every request of its batch.
func TestCommitterReportsFailure(t *testing.T) {
	db := openStore(t)
	c := audit.NewCommitter(db)
	defer c.Close()
	l := audit.NewLog(audit.ServerRef{Name: "hearth"}, audit.WithIDs(func() string { return "same" }))
	if err := c.Commit(context.Background(), "t1", record(t, l, 1)); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(context.Background(), "t1", record(t, l, 2)); !fhir.IsKind(err, fhir.KindConflict) {
		t.Errorf("duplicate id committed: %v", err)
	}
}
