package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// Searches by a patient-limited token must name the launch patient.
func TestPatientScopedSearch(t *testing.T) {
	e := newEnv(t)
	sys := e.adminToken()
	e.create(sys, "Observation", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/`+e.patient+`"}}`)
	tok := e.launch("launch/patient patient/*.rs").AccessToken
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"/Observation?patient=" + e.patient, 200},
		{"/Observation?subject=Patient/" + e.patient, 200},
		{"/Patient?_id=" + e.patient, 200},
		{"/Observation", 403},
		{"/Observation?patient=someone-else", 403},
		{"/Observation?patient=" + e.patient + "&_include=Observation:performer", 403},
		{"/Patient", 403},
	} {
		if s, body := e.fhirDo(tok, "GET", tc.query, ""); s != tc.want {
			t.Errorf("GET %s = %d, want %d: %.200s", tc.query, s, tc.want, body)
		}
	}
	user := e.launch("user/Observation.rs").AccessToken
	if s, _ := e.fhirDo(user, "GET", "/Observation", ""); s != 200 {
		t.Errorf("user/ scope search: %d", s)
	}
}

// The default access policy and the SMART scopes both decide: a patient
// user's standalone launch skips the picker and reads their own record;
// a verified practitioner's token with user/*.rs still may not read
// patients, which the default policy does not grant them.
func TestDefaultPolicy(t *testing.T) {
	e := newDefaultPolicyEnv(t)
	sys := e.adminToken()
	e.patient = e.create(sys, "Patient", `{"resourceType":"Patient","name":[{"family":"Own"}]}`)
	other := e.create(sys, "Patient", `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
	e.users(auth.NewUser{Username: "pat", FhirUser: "Patient/" + e.patient, Roles: []string{"patient"}},
		auth.NewUser{Username: "doc", FhirUser: "Practitioner/d1", Roles: []string{"practitioner"}, Verified: true})
	launchAs := e.launchAs
	pat := launchAs("pat", "launch/patient patient/*.rs")
	if pat.Patient != e.patient {
		t.Fatalf("patient user's context = %+v", pat)
	}
	if s, _ := e.fhirGet(pat.AccessToken, "/Patient/"+e.patient); s != 200 {
		t.Errorf("patient reads own record: %d", s)
	}
	if s, _ := e.fhirGet(pat.AccessToken, "/Patient/"+other); s != 403 {
		t.Errorf("patient reads another: %d", s)
	}
	doc := launchAs("doc", "user/*.rs")
	if s, body := e.fhirDo(doc.AccessToken, "GET", "/Patient/"+e.patient, ""); s != 403 || !strings.Contains(body, "OperationOutcome") {
		t.Errorf("practitioner under the default policy: %d", s)
	}
}

// newDefaultPolicyEnv is a server under the default access policy with a
// public app that may ask for patient/ and user/ read scopes.
func newDefaultPolicyEnv(t *testing.T) *env {
	t.Helper()
	st := hearthtest.OpenStore(t, "sqlite")
	srv := hearthtest.Start(t, st)
	e := &env{t: t, srv: srv, clock: &clock{}, tenant: "acme", password: "correct horse battery"}
	if err := st.EnsureTenant(t.Context(), store.Tenant{ID: e.tenant, Name: e.tenant, CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	var err error
	e.clientID, _, err = auth.RegisterApp(t.Context(), st, auth.App{Tenant: "acme", Name: "Portal", AuthMethod: store.AuthNone,
		RedirectURIs: []string{redirectURI}, Scopes: "launch/patient patient/*.rs user/*.rs openid fhirUser"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// users creates users of the env's tenant with its password.
func (e *env) users(us ...auth.NewUser) {
	e.t.Helper()
	for _, u := range us {
		u.Tenant, u.Password = e.tenant, e.password
		if _, err := e.srv.Auth.CreateUser(e.t.Context(), u); err != nil {
			e.t.Fatal(err)
		}
	}
}

// launchAs signs a user in through a standalone launch of the env's app,
// approving every scope asked, and returns the tokens.
func (e *env) launchAs(username, scope string) tokenResponse {
	e.t.Helper()
	b := newBrowser(e.t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL(scope, challenge, nil))
	page = b.follow(e.login(b, page, username, e.password).location)
	if !strings.Contains(page.body, "Allow access?") {
		e.t.Fatalf("%s: expected the consent page: %.300s", username, page.body)
	}
	return e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
}
