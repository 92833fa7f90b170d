package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A standalone launch: the app asks for launch/patient, the user logs in on
// the real login page, picks the patient, consents; the token response
// carries the patient, fhirUser, an ID token and a refresh token, and the
// token reads the patient.
func TestStandaloneLaunch(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("launch/patient patient/*.rs openid fhirUser offline_access", challenge, nil))
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, "Growth Chart") {
		t.Fatalf("authorize did not end on the login page: %d %s", page.status, page.body)
	}
	r := e.login(b, page, "dr.who", "wrong password!")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Invalid username or password") {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	r = e.login(b, page, "dr.who", e.password)
	page = b.follow(r.location)
	if !strings.Contains(page.body, "Choose a patient") || !strings.Contains(page.body, "Peter Chalmers") {
		t.Fatalf("no patient picker: %s", page.body)
	}
	page = b.follow(e.srv.URL + "/auth/consent?id=" + url.QueryEscape(fields(page.body).Get("id")) + "&patient=" + e.patient)
	if !strings.Contains(page.body, "patient/*.rs") || !strings.Contains(page.body, "offline_access") {
		t.Fatalf("consent page does not list the scopes: %s", page.body)
	}
	tr := e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
	if tr.Status != http.StatusOK || tr.Patient != e.patient || !tr.NeedPatientBanner || tr.RefreshToken == "" || tr.IDToken == "" {
		t.Fatalf("token response = %+v", tr)
	}
	if tr.Scope != "patient/*.rs launch/patient openid fhirUser offline_access" {
		t.Errorf("scope = %q", tr.Scope)
	}
	if want := e.srv.FHIR() + "/Practitioner/p1"; tr.FhirUser != want || claims(t, tr.IDToken)["fhirUser"] != want {
		t.Errorf("fhirUser = %q, id_token %v, want %s", tr.FhirUser, claims(t, tr.IDToken), want)
	}
	at := claims(t, tr.AccessToken)
	if at["patient"] != e.patient || at["sub"] != e.user.ID || at["tenant"] != e.tenant {
		t.Errorf("access token claims = %v", at)
	}
	if status, _ := e.fhirGet(tr.AccessToken, "/Patient/"+e.patient); status != http.StatusOK {
		t.Errorf("read Patient with the launch token: %d", status)
	}
	// The browser's session skips the login form the next time.
	_, challenge = pkce()
	page = b.follow(e.authorizeURL("launch/patient patient/*.rs", challenge, nil))
	if !strings.Contains(page.body, "Choose a patient") {
		t.Errorf("second authorization did not reuse the session: %s", page.body)
	}
}

// authorize-post: the authorization request may be a form POST.
func TestAuthorizePost(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	_, challenge := pkce()
	u, _ := url.Parse(e.authorizeURL("user/Patient.rs", challenge, nil))
	r := b.do(http.MethodPost, e.srv.URL+"/oauth2/authorize", u.Query())
	if page := b.follow(r.location); !strings.Contains(page.body, `name="password"`) {
		t.Errorf("POST authorize did not lead to the login page: %d %s", r.status, r.location)
	}
}

// An EHR launch: the EHR registers a launch context; the app passes its id
// and gets the patient and encounter without a picker.
func TestEHRLaunch(t *testing.T) {
	e := newEnv(t)
	launch, err := e.srv.Auth.CreateLaunch(t.Context(), e.tenant, authLaunch(e.patient, "enc-1"))
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("launch patient/Patient.rs openid fhirUser", challenge, url.Values{"launch": {launch}}))
	r := e.login(b, page, "dr.who", e.password)
	page = b.follow(r.location)
	if strings.Contains(page.body, "Choose a patient") || !strings.Contains(page.body, "Allow access?") {
		t.Fatalf("EHR launch should go straight to consent: %s", page.body)
	}
	tr := e.exchange(e.codeFrom(e.approve(b, page, nil)), verifier)
	if tr.Status != http.StatusOK || tr.Patient != e.patient || tr.Encounter != "enc-1" || tr.RefreshToken != "" {
		t.Fatalf("token response = %+v", tr)
	}
	// An unknown launch id is refused back to the app.
	_, challenge = pkce()
	r = b.follow(e.authorizeURL("launch patient/Patient.rs", challenge, url.Values{"launch": {"nope"}}))
	if !strings.Contains(r.location, "error=invalid_request") {
		t.Errorf("unknown launch: %d %s", r.status, r.location)
	}
}

// The user may untick scopes on the consent page, and deny altogether.
func TestConsentNarrows(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(t)
	verifier, challenge := pkce()
	page := b.follow(e.authorizeURL("user/Patient.rs user/Observation.rs openid", challenge, nil))
	page = b.follow(e.login(b, page, "dr.who", e.password).location)
	tr := e.exchange(e.codeFrom(e.approve(b, page, []string{"user/Patient.rs"})), verifier)
	if tr.Status != http.StatusOK || tr.Scope != "user/Patient.rs" || tr.IDToken != "" {
		t.Fatalf("narrowed token = %+v", tr)
	}
	if s, _ := e.fhirGet(tr.AccessToken, "/Patient/"+e.patient); s != http.StatusOK {
		t.Errorf("granted read: %d", s)
	}
	if s, _ := e.fhirGet(tr.AccessToken, "/Observation/x"); s != http.StatusForbidden {
		t.Errorf("unticked scope: %d, want 403", s)
	}
	// A scope that was not offered cannot be smuggled into the form.
	_, challenge = pkce()
	page = b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	if r := e.approve(b, page, []string{"system/*.cruds"}); r.status != http.StatusBadRequest {
		t.Errorf("unoffered scope: %d %s", r.status, r.location)
	}
	// Deny sends the app access_denied.
	_, challenge = pkce()
	page = b.follow(e.authorizeURL("user/Patient.rs", challenge, nil))
	f := fields(page.body)
	f.Set("decision", "deny")
	if r := b.do(http.MethodPost, e.srv.URL+"/auth/consent", f); !strings.Contains(r.location, "error=access_denied") || !strings.Contains(r.location, "state=st4te") {
		t.Errorf("deny: %d %s", r.status, r.location)
	}
}
