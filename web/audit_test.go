package web_test

import (
	"strings"
	"testing"

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
				seen["login-failed"] = true
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
