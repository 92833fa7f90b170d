package web_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
)

// Logins, failed logins and issued tokens leave AuditEvents in the
// tenant's audit chain.
func TestAuthEventsAudited(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	_, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	e.login(b, page, "dr.who", "wrong password!")
	e.launch("launch/patient patient/*.rs")
	entries, err := e.srv.Store.(store.AuditLog).ScanAudit(t.Context(), e.tenant, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range entries {
		body := string(en.Body)
		if strings.Contains(body, `"code":"token-issue"`) && strings.Contains(body, `"outcome":"0"`) {
			seen["token-issue"] = true
		}
		if strings.Contains(body, `"code":"110122"`) { // DICOM Login, failed or not by its outcome
			if strings.Contains(body, `"outcome":"4"`) {
				// The failed login names the user whose password was wrong.
				seen["login-failed"] = strings.Contains(body, `"value":"`+e.user.ID+`"`) &&
					strings.Contains(body, `"reference":"Practitioner/p1"`)
			} else if strings.Contains(body, `"outcome":"0"`) {
				seen["login"] = true
			}
		}
	}
	for _, want := range []string{"login", "login-failed", "token-issue"} {
		if !seen[want] {
			t.Errorf("no %s AuditEvent among %d entries", want, len(entries))
		}
	}
	if t.Failed() && len(entries) > 0 {
		t.Logf("first entry: %s", entries[0].Body)
	}
}

// Under the default access policy auditors and admins search the audit log
// with their SMART user tokens and practitioners may not; logins, failed
// ones included, are found by their DICOM subtype and outcome.
func TestAuditorsSearchTheAuditLog(t *testing.T) {
	e := newDefaultPolicyEnv(t)
	e.users(auth.NewUser{Username: "aud", FhirUser: "Practitioner/x1", Roles: []string{"auditor"}},
		auth.NewUser{Username: "adm", FhirUser: "Practitioner/a1", Roles: []string{"admin"}},
		auth.NewUser{Username: "doc", FhirUser: "Practitioner/d1", Roles: []string{"practitioner"}, Verified: true})
	b := newBrowser(t)
	_, challenge := pkce()
	e.login(b, b.follow(e.authorizeURL("user/*.rs", challenge, nil)), "doc", "wrong password!")
	doc := e.launchAs("doc", "user/*.rs")
	aud := e.launchAs("aud", "user/AuditEvent.rs")
	adm := e.launchAs("adm", "user/*.rs")
	count := func(token, query string) int {
		t.Helper()
		status, body := e.fhirDo(token, "GET", "/AuditEvent?"+query, "")
		if status != 200 {
			t.Fatalf("%s: %d %.300s", query, status, body)
		}
		var bundle struct{ Entry []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &bundle); err != nil {
			t.Fatal(err)
		}
		return len(bundle.Entry)
	}
	for _, tc := range []struct {
		token, query string
		want         int
	}{
		{aud.AccessToken, "subtype=110122&agent=Practitioner/d1&outcome=0", 1},
		{aud.AccessToken, "subtype=" + url.QueryEscape("http://dicom.nema.org/resources/ontology/DCM|110122") + "&outcome=4", 1},
		{aud.AccessToken, "subtype=110122", 4},
		{adm.AccessToken, "subtype=110122", 4},
		{adm.AccessToken, "agent=Practitioner/x1&subtype=search-type", 3},
	} {
		if got := count(tc.token, tc.query); got != tc.want {
			t.Errorf("%s: %d AuditEvents, want %d", tc.query, got, tc.want)
		}
	}
	if status, body := e.fhirDo(doc.AccessToken, "GET", "/AuditEvent?subtype=110122", ""); status != 403 || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("practitioner searches the audit log: %d %.200s", status, body)
	}
}
