package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/audit"
	"github.com/hearth-fhir/hearth/crypt"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/policy"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// minuteClock moves a minute forward at every reading, so the n-th
// AuditEvent is recorded at 00:0n.
type minuteClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *minuteClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

// auditWorld is a world whose AuditEvents are recorded at 00:01, 00:02 …
// of 2025-01-01 by six scripted interactions:
//
//	01 client creates Communication/m1 (about Patient/pat1)
//	02 client creates Communication/m2
//	03 Practitioner/p1 reads m1
//	04 Practitioner/p1 reads m2: denied
//	05 Practitioner/a1 (admin) reads m1: denied
//	06 client searches Communication?subject=Patient/pat1
func auditWorld(t *testing.T, opts ...func(*worldSetup)) world {
	t.Helper()
	clock := &minuteClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	w := newWorld(t, engine.DefaultConfig(), append(opts, func(ws *worldSetup) {
		ws.log = append(ws.log, audit.WithClock(clock.now))
	})...)
	ctx := context.Background()
	client := w.client(t)
	prac := w.user(t, "Practitioner/p1", "practitioner")
	admin := w.user(t, "Practitioner/a1", "admin")
	m1 := `{"resourceType":"Communication","id":"m1","status":"completed","sender":{"reference":"Practitioner/p2"},` +
		`"recipient":[{"reference":"Practitioner/p1"}],"subject":{"reference":"Patient/pat1"}}`
	m2 := `{"resourceType":"Communication","id":"m2","status":"completed","sender":{"reference":"Practitioner/p2"},` +
		`"recipient":[{"reference":"Practitioner/p3"}]}`
	steps := []func() error{
		func() error {
			_, err := w.eng.Update(ctx, client, "Communication", "m1", []byte(m1), engine.UpdateOptions{})
			return err
		},
		func() error {
			_, err := w.eng.Update(ctx, client, "Communication", "m2", []byte(m2), engine.UpdateOptions{})
			return err
		},
		func() error { _, err := w.eng.Read(ctx, prac, "Communication", "m1"); return err },
		func() error { _, err := w.eng.Read(ctx, prac, "Communication", "m2"); return denied(err) },
		func() error { _, err := w.eng.Read(ctx, admin, "Communication", "m1"); return denied(err) },
		func() error {
			_, err := w.eng.Search(ctx, client, engine.SearchRequest{Type: "Communication", Query: "subject=Patient/pat1"})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	return w
}

// auditMinutes runs an AuditEvent search and lists the minutes its
// AuditEvents were recorded at ("03 01"), and the next page's cursor.
func auditMinutes(t *testing.T, w world, p engine.Principal, query string) (string, string, error) {
	t.Helper()
	res, err := w.eng.Search(context.Background(), p, engine.SearchRequest{Type: "AuditEvent", Query: query})
	if err != nil {
		return "", "", err
	}
	var mins []string
	for _, r := range res.Page.Records {
		var ae struct{ Recorded time.Time }
		if err := json.Unmarshal(r.Body, &ae); err != nil || r.Type != "AuditEvent" || r.ID == "" {
			t.Fatalf("not an AuditEvent: %s", r.Body)
		}
		if !r.LastUpdated.Equal(ae.Recorded) {
			t.Errorf("lastUpdated %v, recorded %v", r.LastUpdated, ae.Recorded)
		}
		mins = append(mins, ae.Recorded.Format("04"))
	}
	return strings.Join(mins, " "), res.Next, nil
}

// The script's AuditEvents are found by every supported parameter, alone
// and combined, in date order either way.
func TestAuditEventSearch(t *testing.T) {
	w := auditWorld(t)
	auditor := w.user(t, "Practitioner/x1", "auditor")
	// The auditor's searches are audited too, from 00:07 on; the bound
	// keeps them out of the expectations.
	const script = "&date=lt2025-01-01T00:07:00Z"
	tests := []struct{ query, want string }{
		{"", "06 05 04 03 02 01"},
		{"agent=Practitioner/p1", "04 03"},
		{"agent=p1", "04 03"},
		{"agent:Practitioner=p1", "04 03"},
		{"agent=Patient/p1", ""},
		{"agent=Practitioner/p1,Practitioner/a1", "05 04 03"},
		{"agent:identifier=" + audit.SysClient + "|ehr", "06 02 01"},
		{"agent:identifier=" + audit.SysClient + "|app", "05 04 03"},
		{"agent:identifier=u-Practitioner/p1", "04 03"},
		{"agent:identifier=" + audit.SysSubject + "|", "05 04 03"},
		{"entity=Communication/m1", "05 03 01"},
		{"entity=m2", "04 02"},
		{"entity:Communication=m2", "04 02"},
		{"entity=Patient/m2", ""},
		{"patient=Patient/pat1", "03 01"},
		{"patient=pat1", "03 01"},
		{"outcome=4", "05 04"},
		{"outcome=0", "06 03 02 01"},
		{"outcome=0&agent=Practitioner/p1", "03"},
		{"subtype=read", "05 04 03"},
		{"subtype=http://hl7.org/fhir/restful-interaction|create", "02 01"},
		{"subtype=http://hl7.org/fhir/restful-interaction|", "06 05 04 03 02 01"},
		{"subtype=search-type", "06"},
		{"type=rest", "06 05 04 03 02 01"},
		{"type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest", "06 05 04 03 02 01"},
		{"type=|rest", ""},
		{"source=hearth", "06 05 04 03 02 01"},
		{"source=Device/hearth", "06 05 04 03 02 01"},
		{"source=Device/other", ""},
		{"date=2025-01-01T00:03:00Z", "03"},
		{"date=2025-01-01T00:03", "03"},
		{"date=eq2025-01-01T00:03:00Z,2025-01-01T00:05:00Z", "05 03"},
		{"date=ge2025-01-01T00:03:00Z&date=le2025-01-01T00:05:00Z", "05 04 03"},
		{"date=gt2025-01-01T00:03:00Z&date=lt2025-01-01T00:05:00Z", "04"},
		{"date=ne2025-01-01T00:03:00Z", "06 05 04 02 01"},
		{"date=2025-01-01", "06 05 04 03 02 01"},
		{"date=2024", ""},
		{"_sort=date&outcome=4", "04 05"},
		{"_sort=-date&outcome=4", "05 04"},
		{"_count=2", "06 05"},
	}
	for _, tc := range tests {
		got, _, err := auditMinutes(t, w, auditor, strings.TrimPrefix(tc.query+script, "&"))
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.query, got, tc.want)
		}
	}
}

// Next links walk the whole result once, in either order.
func TestAuditEventSearchPaging(t *testing.T) {
	w := auditWorld(t)
	auditor := w.user(t, "Practitioner/x1", "auditor")
	for _, tc := range []struct{ query, want string }{
		{"_count=2&date=lt2025-01-01T00:07:00Z", "06 05|04 03|02 01"},
		{"_count=4&_sort=date&date=lt2025-01-01T00:07:00Z", "01 02 03 04|05 06"},
		{"_count=1&outcome=4", "05|04"},
	} {
		var pages []string
		query := tc.query
		for range 10 {
			got, next, err := auditMinutes(t, w, auditor, query)
			if err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			pages = append(pages, got)
			if next == "" {
				break
			}
			query = tc.query + "&_cursor=" + next
		}
		if got := strings.Join(pages, "|"); got != tc.want {
			t.Errorf("%s: pages %q, want %q", tc.query, got, tc.want)
		}
	}
}

// What an AuditEvent search cannot answer is refused with 400 naming the
// parameter, never ignored.
func TestAuditEventSearchRefusals(t *testing.T) {
	w := auditWorld(t)
	ctx := context.Background()
	auditor := w.user(t, "Practitioner/x1", "auditor")
	patientCursor, err := w.eng.Search(ctx, w.client(t), engine.SearchRequest{Type: "Communication", Query: "_count=1"})
	if err != nil || patientCursor.Next == "" {
		t.Fatalf("a Communication page with a next link: %+v, %v", patientCursor, err)
	}
	for _, tc := range []struct{ query, expr string }{
		{"foo=bar", "foo"},
		{"action=R", "action"},
		{"address=192.0.2.10", "address"},
		{"_id=x", "_id"},
		{"agent:missing=true", "agent"},
		{"outcome:not=0", "outcome"},
		{"subtype:text=read", "subtype"},
		{"entity:identifier=x", "entity"},
		{"agent.name=x", "agent"},
		{"_has:Communication:sender:status=completed", "_has"},
		{"date=2025-13", "date"},
		{"date=xx2025", "date"},
		{"_sort=outcome", "_sort"},
		{"_sort=date,_id", "_sort"},
		{"_include=AuditEvent:agent", "_include"},
		{"_total=accurate", "_total"},
		{"_summary=count", "_summary"},
		{"_elements=outcome", "_elements"},
		{"_cursor=garbage", "_cursor"},
		{"_cursor=" + patientCursor.Next, ""},
	} {
		_, _, err := auditMinutes(t, w, auditor, tc.query)
		if !fhir.IsKind(err, fhir.KindInvalid) || (tc.expr != "" && expressionOf(err) != tc.expr) {
			t.Errorf("%s: %v (expression %q), want invalid at %q", tc.query, err, expressionOf(err), tc.expr)
		}
	}
	// A system-level search cannot reach AuditEvents.
	_, err = w.eng.Search(ctx, auditor, engine.SearchRequest{Query: "_type=AuditEvent"})
	if !fhir.IsKind(err, fhir.KindInvalid) {
		t.Errorf("_type=AuditEvent: %v", err)
	}
}

// Scopes and the access policy decide who may search AuditEvents, as for
// any search, and every search of them is itself audited.
func TestAuditEventSearchAccess(t *testing.T) {
	w := auditWorld(t)
	auditor := w.user(t, "Practitioner/x1", "auditor")
	narrow := w.user(t, "Practitioner/x2", "auditor")
	narrow.Scopes = scopes(t, "user/Communication.rs")
	commClient := w.client(t)
	commClient.Scopes = scopes(t, "system/Communication.rs")
	for _, tc := range []struct {
		who  string
		p    engine.Principal
		want fhir.Kind // -1: allowed
	}{
		{"auditor", auditor, -1},
		{"admin", w.user(t, "Practitioner/a1", "admin"), -1},
		{"system client with AuditEvent scopes", w.client(t), -1},
		{"practitioner", w.user(t, "Practitioner/p1", "practitioner"), fhir.KindForbidden},
		{"staff", w.user(t, "Practitioner/s1", "staff"), fhir.KindForbidden},
		{"patient", w.user(t, "Patient/pat1", "patient"), fhir.KindForbidden},
		{"auditor without an AuditEvent scope", narrow, fhir.KindForbidden},
		{"system client without an AuditEvent scope", commClient, fhir.KindForbidden},
	} {
		got, _, err := auditMinutes(t, w, tc.p, "outcome=4&date=lt2025-01-01T00:07:00Z")
		switch {
		case tc.want < 0 && (err != nil || got != "05 04"):
			t.Errorf("%s: %q, %v", tc.who, got, err)
		case tc.want >= 0 && !fhir.IsKind(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.who, err, tc.want)
		}
	}
	// Each search above left its AuditEvent: the query it ran, who ran it,
	// and whether it was refused.
	for _, tc := range []struct{ query, want string }{
		{"subtype=search-type&agent=Practitioner/x1&outcome=0", "AuditEvent?outcome=4&date=lt2025-01-01T00:07:00Z"},
		{"subtype=search-type&agent=Practitioner/p1&outcome=4", "AuditEvent?outcome=4&date=lt2025-01-01T00:07:00Z"},
		{"subtype=search-type&agent:identifier=" + audit.SysSubject + "|u-Practitioner/x2&outcome=4", "AuditEvent?outcome=4&date=lt2025-01-01T00:07:00Z"},
		// patient finds the patient user as an agent, as well as entities.
		{"subtype=search-type&patient=pat1", "AuditEvent?outcome=4&date=lt2025-01-01T00:07:00Z"},
	} {
		res, err := w.eng.Search(context.Background(), auditor, engine.SearchRequest{Type: "AuditEvent", Query: tc.query})
		if err != nil {
			t.Fatal(err)
		}
		var ae struct {
			Entity []struct{ Description string }
		}
		if len(res.Page.Records) != 1 || json.Unmarshal(res.Page.Records[0].Body, &ae) != nil ||
			len(ae.Entity) != 1 || ae.Entity[0].Description != tc.want {
			t.Errorf("%s: %d AuditEvents %+v, want one naming %s", tc.query, len(res.Page.Records), ae, tc.want)
		}
	}
}

// A policy's search constraints on AuditEvent narrow the search in the
// store, as for any type: this site's auditors see one practitioner's trail.
func TestAuditEventSearchPolicyConstraints(t *testing.T) {
	dir := t.TempDir()
	rule := `package hearth.authz

grants contains {"type": "AuditEvent", "actions": {"read", "search"}, "reason": "site auditors follow p1",
	"where": [[{"param": "agent", "paths": [["agent", "who"]], "values": ["Practitioner/p1"]}]]} if has_role("site-auditor")

grants contains {"type": "AuditEvent", "actions": {"read", "search"}, "reason": "a clause the log cannot answer",
	"where": [[{"param": "action", "paths": [["action"]], "values": ["R"]}]]} if has_role("broken-auditor")
`
	if err := os.WriteFile(filepath.Join(dir, "site.rego"), []byte(rule), 0o600); err != nil {
		t.Fatal(err)
	}
	w := auditWorld(t, func(ws *worldSetup) { ws.policy = append(ws.policy, policy.WithDir(dir)) })
	site := w.user(t, "Practitioner/x3", "site-auditor")
	for _, tc := range []struct{ query, want string }{
		{"date=lt2025-01-01T00:07:00Z", "04 03"},
		{"outcome=0", "03"},
		{"agent=Practitioner/a1", ""},
	} {
		got, _, err := auditMinutes(t, w, site, tc.query)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.query, got, err, tc.want)
		}
	}
	// A clause the audit log cannot answer fails the search, never widens it.
	if _, _, err := auditMinutes(t, w, w.user(t, "Practitioner/x4", "broken-auditor"), ""); !fhir.IsKind(err, fhir.KindInternal) {
		t.Errorf("a policy clause on action: %v", err)
	}
}

// denied turns the expected refusal of a scripted step into success.
func denied(err error) error {
	if fhir.IsKind(err, fhir.KindForbidden) {
		return nil
	}
	return fmt.Errorf("want forbidden, got %v", err)
}

func expressionOf(err error) string {
	var fe *fhir.Error
	if errors.As(err, &fe) {
		return fe.Expression
	}
	return ""
}

// With field encryption, AuditEvents found by a search are opened like a
// read's (the query a search event records is sealed in the store), and a
// parameter over an element the configuration encrypts has no index values
// in the clear: searching on it is refused.
func TestAuditEventSearchEncrypted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hearth.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	elems, err := crypt.ParseElements([]string{"AuditEvent.entity.query", "AuditEvent.entity.description", "AuditEvent.entity.what"})
	if err != nil {
		t.Fatal(err)
	}
	enc := engine.Encryption{Ring: newRing(t, st), Elements: elems}
	v, err := fhir.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, v, engine.DefaultConfig(), engine.WithPolicy(pol), engine.WithEncryption(enc),
		engine.WithAudit(audit.NewLog(audit.ServerRef{Name: "hearth"})))
	t.Cleanup(eng.Close)
	w := world{eng, st}
	client := w.client(t)
	if _, err := eng.Update(ctx, client, "Communication", "m1", []byte(`{"resourceType":"Communication","id":"m1","status":"completed","subject":{"reference":"Patient/pat1"}}`), engine.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Search(ctx, client, engine.SearchRequest{Type: "Communication", Query: "status=completed"}); err != nil {
		t.Fatal(err)
	}
	auditor := w.user(t, "Practitioner/x1", "auditor")
	res, err := eng.Search(ctx, auditor, engine.SearchRequest{Type: "AuditEvent", Query: "subtype=search-type"})
	if err != nil || len(res.Page.Records) != 1 {
		t.Fatalf("search events: %+v, %v", res.Page.Records, err)
	}
	var ae struct {
		Entity []struct{ Description string }
	}
	if err := json.Unmarshal(res.Page.Records[0].Body, &ae); err != nil || len(ae.Entity) != 1 || ae.Entity[0].Description != "Communication?status=completed" {
		t.Errorf("search event as found: %s", res.Page.Records[0].Body)
	}
	if got, _, err := auditMinutes(t, w, auditor, "subtype=create"); err != nil || got == "" {
		t.Errorf("create events: %q, %v", got, err)
	}
	for _, q := range []string{"entity=Communication/m1", "patient=pat1"} {
		_, _, err := auditMinutes(t, w, auditor, q)
		if !fhir.IsKind(err, fhir.KindInvalid) || expressionOf(err) != strings.Split(q, "=")[0] {
			t.Errorf("%s on an encrypted element: %v", q, err)
		}
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var clear, hidden int
	if err := raw.QueryRow(`SELECT count(*) FILTER (WHERE param = 'subtype'), count(*) FILTER (WHERE param IN ('entity', 'patient'))
		FROM audit_index`).Scan(&clear, &hidden); err != nil {
		t.Fatal(err)
	}
	if clear < 3 || hidden != 0 {
		t.Errorf("index: %d subtype values, %d entity or patient values; want some and none", clear, hidden)
	}
	var bodies []byte
	if err := raw.QueryRow(`SELECT group_concat(CAST(body AS TEXT)) FROM audit_events`).Scan(&bodies); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bodies, []byte("Communication/m1")) || bytes.Contains(bodies, []byte("status=completed")) {
		t.Errorf("encrypted AuditEvent elements in the clear: %s", bodies)
	}
}
