package engine_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

const tenant = "t1"

type world struct {
	eng *engine.Engine
	st  *sqlite.DB
}

// worldSetup holds optional settings of a world.
type worldSetup struct {
	log    []audit.LogOption
	policy []policy.Option
}

func newWorld(t *testing.T, cfg engine.Config, opts ...func(*worldSetup)) world {
	t.Helper()
	var ws worldSetup
	for _, o := range opts {
		o(&ws)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hearth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(ctx, ws.policy...)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, v, cfg, engine.WithPolicy(pol),
		engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth"}, ws.log...)))
	t.Cleanup(eng.Close)
	return world{eng, st}
}

func scopes(t testing.TB, s string) scope.Set {
	t.Helper()
	set, err := scope.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func (w world) user(t testing.TB, fhirUser string, roles ...string) engine.Principal {
	return engine.Principal{Tenant: tenant, Subject: "u-" + fhirUser, ClientID: "app", FhirUser: fhirUser,
		Scopes: scopes(t, "user/*.cruds"), Kind: "user", Roles: roles, Organization: "Organization/o1",
		Verified: true, Address: "192.0.2.10"}
}

func (w world) client(t testing.TB) engine.Principal {
	return engine.Principal{Tenant: tenant, Subject: "ehr", ClientID: "ehr", Scopes: scopes(t, "system/*.cruds"), Address: "192.0.2.20"}
}

// The data set: a directory of practitioners, messages between them, a
// form and an answer.
var dataset = map[string]string{
	"Organization/o1":          `{"resourceType":"Organization","id":"o1","name":"Riverside Practice"}`,
	"Practitioner/p1":          `{"resourceType":"Practitioner","id":"p1","identifier":[{"system":"urn:licence","value":"L-1"}],"name":[{"family":"One"}],"birthDate":"1970-01-01"}`,
	"Practitioner/p2":          `{"resourceType":"Practitioner","id":"p2","identifier":[{"system":"urn:licence","value":"L-2"}],"name":[{"family":"Two"}],"birthDate":"1980-02-02"}`,
	"Patient/pat1":             `{"resourceType":"Patient","id":"pat1","name":[{"family":"Doe"}]}`,
	"Communication/m1":         `{"resourceType":"Communication","id":"m1","status":"completed","sender":{"reference":"Practitioner/p2"},"recipient":[{"reference":"Practitioner/p1"}],"subject":{"reference":"Patient/pat1"},"payload":[{"contentString":"for p1"}]}`,
	"Communication/m2":         `{"resourceType":"Communication","id":"m2","status":"completed","sender":{"reference":"Practitioner/p2"},"recipient":[{"reference":"Practitioner/p3"}],"payload":[{"contentString":"not for p1"}]}`,
	"Communication/m3":         `{"resourceType":"Communication","id":"m3","status":"completed","sender":{"reference":"Practitioner/p2"},"recipient":[{"reference":"Organization/o1"}],"payload":[{"contentString":"for the practice"}]}`,
	"Questionnaire/q1":         `{"resourceType":"Questionnaire","id":"q1","status":"active","item":[{"linkId":"1","text":"How are you?","type":"string"}]}`,
	"QuestionnaireResponse/r1": `{"resourceType":"QuestionnaireResponse","id":"r1","status":"completed","questionnaire":"Questionnaire/q1","author":{"reference":"Practitioner/p1"}}`,
}

func (w world) load(t testing.TB) {
	t.Helper()
	for ref, body := range dataset {
		typ, id, _ := strings.Cut(ref, "/")
		if _, err := w.eng.Update(context.Background(), w.client(t), typ, id, []byte(body), engine.UpdateOptions{}); err != nil {
			t.Fatalf("load %s: %v", ref, err)
		}
	}
}

func hasField(t testing.TB, body []byte, name string) bool {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	_, ok := m[name]
	return ok
}

func TestRolesOverTheDataSet(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, engine.DefaultConfig())
	w.load(t)
	prac := w.user(t, "Practitioner/p1", "practitioner")
	staff := w.user(t, "Practitioner/s1", "staff")
	admin := w.user(t, "Practitioner/a1", "admin")
	auditor := w.user(t, "Practitioner/x1", "auditor")
	patient := w.user(t, "Patient/pat1", "patient")
	unverified := w.user(t, "Practitioner/p1", "practitioner")
	unverified.Verified = false
	client := w.client(t)

	reads := []struct {
		who  string
		p    engine.Principal
		ref  string
		want fhir.Kind // -1: allowed
	}{
		{"practitioner", prac, "Communication/m1", -1},
		{"practitioner", prac, "Communication/m3", -1},
		{"practitioner", prac, "Communication/m2", fhir.KindForbidden},
		{"practitioner", prac, "Questionnaire/q1", -1},
		{"practitioner", prac, "QuestionnaireResponse/r1", -1},
		{"practitioner", prac, "Patient/pat1", fhir.KindForbidden},
		{"practitioner", prac, "Communication/missing", fhir.KindNotFound},
		{"unverified", unverified, "Practitioner/p2", -1},
		{"unverified", unverified, "Communication/m1", fhir.KindForbidden},
		{"staff", staff, "Communication/m3", -1},
		{"staff", staff, "Communication/m1", fhir.KindForbidden},
		{"admin", admin, "Practitioner/p2", -1},
		{"admin", admin, "Communication/m3", fhir.KindForbidden},
		{"auditor", auditor, "Practitioner/p2", fhir.KindForbidden},
		{"auditor", auditor, "Communication/missing", fhir.KindForbidden},
		{"patient", patient, "Patient/pat1", -1},
		{"patient", patient, "Communication/m1", -1},
		{"patient", patient, "Communication/m2", fhir.KindForbidden},
		{"client", client, "Communication/m2", -1},
	}
	for _, tc := range reads {
		t.Run(tc.who+" reads "+tc.ref, func(t *testing.T) {
			typ, id, _ := strings.Cut(tc.ref, "/")
			_, err := w.eng.Read(ctx, tc.p, typ, id)
			if tc.want == -1 && err != nil || tc.want != -1 && !fhir.IsKind(err, tc.want) {
				t.Errorf("Read = %v, want kind %v", err, tc.want)
			}
		})
	}

	// Hidden fields are gone from reads, history and Bundle entries.
	res, err := w.eng.Read(ctx, prac, "Practitioner", "p2")
	if err != nil || hasField(t, res.Record.Body, "birthDate") || !hasField(t, res.Record.Body, "identifier") {
		t.Errorf("practitioner reads Practitioner/p2: %v %s", err, res.Record.Body)
	}
	res, _ = w.eng.Read(ctx, unverified, "Practitioner", "p2")
	if hasField(t, res.Record.Body, "identifier") {
		t.Errorf("unverified user sees identifiers: %s", res.Record.Body)
	}
	res, _ = w.eng.Read(ctx, admin, "Practitioner", "p2")
	if !hasField(t, res.Record.Body, "birthDate") {
		t.Errorf("admin does not see the birth date: %s", res.Record.Body)
	}
	page, err := w.eng.History(ctx, prac, engine.HistoryRequest{Type: "Practitioner"})
	if err != nil || len(page.Records) != 2 {
		t.Fatalf("practitioner history = %d records, %v", len(page.Records), err)
	}
	for _, r := range page.Records {
		if hasField(t, r.Body, "birthDate") {
			t.Errorf("history shows a birth date: %s", r.Body)
		}
	}
	entries, err := w.eng.Batch(ctx, prac, []engine.BundleEntry{
		{Method: "GET", URL: "Practitioner/p2"}, {Method: "GET", URL: "Communication/m2"}, {Method: "GET", URL: "Communication/m1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Err != nil || hasField(t, entries[0].Record.Body, "birthDate") {
		t.Errorf("batch GET Practitioner/p2 = %v %s", entries[0].Err, entries[0].Record.Body)
	}
	if !fhir.IsKind(entries[1].Err, fhir.KindForbidden) || entries[2].Err != nil {
		t.Errorf("batch GET Communications = %v, %v", entries[1].Err, entries[2].Err)
	}
	if _, err := w.eng.Transaction(ctx, prac, []engine.BundleEntry{{Method: "GET", URL: "Communication/m2"}}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("transaction GET of a forbidden message = %v", err)
	}

	// History under policy holds only what the caller may read.
	page, err = w.eng.History(ctx, prac, engine.HistoryRequest{Type: "Communication"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range page.Records {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "m3,m1" && strings.Join(ids, ",") != "m1,m3" {
		t.Errorf("practitioner's Communication history = %v, want m1 and m3", ids)
	}
	if _, err := w.eng.History(ctx, auditor, engine.HistoryRequest{Type: "Communication"}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("auditor's Communication history: %v", err)
	}
	if _, err := w.eng.History(ctx, prac, engine.HistoryRequest{}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner's system history: %v", err)
	}

	// Writes: as oneself only, read-only fields kept.
	send := func(p engine.Principal, sender string) error {
		_, err := w.eng.Create(ctx, p, "Communication", []byte(`{"resourceType":"Communication","status":"completed","sender":{"reference":"`+sender+`"},"recipient":[{"reference":"Practitioner/p2"}]}`), engine.CreateOptions{})
		return err
	}
	if err := send(prac, "Practitioner/p1"); err != nil {
		t.Errorf("practitioner sends as self: %v", err)
	}
	if err := send(prac, "Practitioner/p2"); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner sends as someone else: %v", err)
	}
	if err := send(unverified, "Practitioner/p1"); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("unverified practitioner sends: %v", err)
	}
	own := `{"resourceType":"Practitioner","id":"p1","identifier":[{"system":"urn:licence","value":"L-1"}],"name":[{"family":"Uno"}],"birthDate":"1970-01-01"}`
	if _, err := w.eng.Update(ctx, prac, "Practitioner", "p1", []byte(own), engine.UpdateOptions{}); err != nil {
		t.Errorf("practitioner renames self: %v", err)
	}
	forged := strings.Replace(own, "L-1", "L-999", 1)
	if _, err := w.eng.Update(ctx, prac, "Practitioner", "p1", []byte(forged), engine.UpdateOptions{}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner changes own licence number: %v", err)
	}
	if _, err := w.eng.Patch(ctx, prac, "Practitioner", "p1", []byte(`[{"op":"remove","path":"/identifier"}]`), engine.UpdateOptions{}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner patches away own licence number: %v", err)
	}
	if _, err := w.eng.Update(ctx, admin, "Practitioner", "p1", []byte(forged), engine.UpdateOptions{}); err != nil {
		t.Errorf("admin corrects a licence number: %v", err)
	}
	if _, err := w.eng.Delete(ctx, prac, "Communication", "m1", engine.UpdateOptions{}); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner deletes a message: %v", err)
	}

	// AuditEvents: written by the server only, read by auditors and admins.
	if _, err := w.eng.Create(ctx, client, "AuditEvent", []byte(`{"resourceType":"AuditEvent"}`), engine.CreateOptions{}); !fhir.IsKind(err, fhir.KindMethodNotAllowed) {
		t.Errorf("create AuditEvent: %v", err)
	}
	for _, f := range []func() error{
		func() error {
			_, err := w.eng.Delete(ctx, client, "AuditEvent", "x", engine.UpdateOptions{})
			return err
		},
		func() error {
			_, err := w.eng.Update(ctx, client, "AuditEvent", "x", []byte(`{"resourceType":"AuditEvent","id":"x"}`), engine.UpdateOptions{})
			return err
		},
		func() error {
			_, err := w.eng.Patch(ctx, client, "AuditEvent", "x", []byte(`[]`), engine.UpdateOptions{})
			return err
		},
	} {
		if err := f(); !fhir.IsKind(err, fhir.KindMethodNotAllowed) {
			t.Errorf("change AuditEvent: %v", err)
		}
	}
	entriesOf := func() []store.AuditEntry {
		es, err := w.st.ScanAudit(ctx, tenant, store.AuditQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	first := entriesOf()[0]
	for _, p := range []engine.Principal{auditor, admin, client} {
		if res, err := w.eng.Read(ctx, p, "AuditEvent", first.ID); err != nil || string(res.Record.Body) != string(first.Body) {
			t.Errorf("%s reads an AuditEvent: %v", p.Subject, err)
		}
	}
	if _, err := w.eng.Read(ctx, prac, "AuditEvent", first.ID); !fhir.IsKind(err, fhir.KindForbidden) {
		t.Errorf("practitioner reads an AuditEvent: %v", err)
	}
	if rep, err := audit.Verify(ctx, w.st, tenant); err != nil || rep.Break != nil {
		t.Errorf("Verify = %+v, %v", rep, err)
	}
}

func TestHideForbidden(t *testing.T) {
	cfg := engine.DefaultConfig()
	cfg.HideForbidden = true
	w := newWorld(t, cfg)
	w.load(t)
	_, err := w.eng.Read(context.Background(), w.user(t, "Practitioner/p1", "practitioner"), "Communication", "m2")
	if !fhir.IsKind(err, fhir.KindNotFound) {
		t.Errorf("hidden read = %v, want not-found", err)
	}
}

// A conditional create sees what the caller may search: a match the policy
// hides from the caller is not returned (nor revealed by a 200), and the
// resource is created; a visible match is returned as a read would be.
func TestConditionalCreateSeesOnlyWhatTheCallerMay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, engine.DefaultConfig())
	w.load(t)
	prac := w.user(t, "Practitioner/p1", "practitioner")
	body := []byte(`{"resourceType":"Communication","status":"completed","sender":{"reference":"Practitioner/p1"},"recipient":[{"reference":"Practitioner/p2"}]}`)

	hidden := engine.CreateOptions{IfNoneExist: "status=completed&recipient=Practitioner/p3"} // m2, not p1's
	res, err := w.eng.Create(ctx, prac, "Communication", body, hidden)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Record.ID == "m2" {
		t.Fatalf("practitioner's conditional create returned %s (created %v): a message hidden from them", res.Record.ID, res.Created)
	}
	res, err = w.eng.Create(ctx, w.client(t), "Communication", body, hidden)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Record.ID != "m2" {
		t.Fatalf("client's conditional create: created %v, id %s; want the match m2", res.Created, res.Record.ID)
	}

	res, err = w.eng.Create(ctx, prac, "Communication", body, engine.CreateOptions{IfNoneExist: "_id=m1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created || res.Record.ID != "m1" {
		t.Fatalf("visible match: created %v, id %s; want m1", res.Created, res.Record.ID)
	}
}
