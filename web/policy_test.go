package web_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// Searches by a patient-limited token see the launch patient's compartment
// only, whatever the query says: other patients' resources are filtered
// out of the matches, includes and counts, not refused.
func TestPatientScopedSearch(t *testing.T) {
	e := newEnv(t)
	sys := e.adminToken()
	other := e.create(sys, "Patient", `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
	doc := e.create(sys, "Practitioner", `{"resourceType":"Practitioner","name":[{"family":"Doc"}]}`)
	obs := func(patient string) string {
		return `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/` + patient +
			`"},"performer":[{"reference":"Practitioner/` + doc + `"}]}`
	}
	own := e.create(sys, "Observation", obs(e.patient))
	e.create(sys, "Observation", obs(other))
	// In the compartment through a participant's actor, a path below the top level.
	appt := e.create(sys, "Appointment", `{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"reference":"Patient/`+e.patient+`"},"status":"accepted"}]}`)
	e.create(sys, "Appointment", `{"resourceType":"Appointment","status":"booked","participant":[{"actor":{"reference":"Patient/`+other+`"},"status":"accepted"}]}`)

	tok := e.launch("launch/patient patient/*.rs").AccessToken
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"/Observation?patient=" + e.patient, []string{"Observation/" + own}},
		{"/Observation?subject=Patient/" + e.patient, []string{"Observation/" + own}},
		{"/Observation", []string{"Observation/" + own}},
		{"/Observation?patient=" + other, nil},
		{"/Observation?_total=accurate", []string{"Observation/" + own}},
		// Practitioners are outside the Patient compartment: not included.
		{"/Observation?_include=Observation:performer", []string{"Observation/" + own}},
		{"/Patient", []string{"Patient/" + e.patient}},
		{"/Patient?_id=" + other, nil},
		{"/Appointment", []string{"Appointment/" + appt}},
	} {
		s, body := e.fhirDo(tok, "GET", tc.query, "")
		if s != 200 {
			t.Errorf("GET %s = %d: %.200s", tc.query, s, body)
			continue
		}
		var b struct {
			Total *int `json:"total"`
			Entry []struct {
				Resource struct {
					ResourceType string `json:"resourceType"`
					ID           string `json:"id"`
				} `json:"resource"`
			} `json:"entry"`
		}
		if err := json.Unmarshal([]byte(body), &b); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, en := range b.Entry {
			got = append(got, en.Resource.ResourceType+"/"+en.Resource.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("GET %s found %v, want %v", tc.query, got, tc.want)
		}
		if b.Total != nil && *b.Total != len(tc.want) {
			t.Errorf("GET %s: total %d counts what the caller may not see", tc.query, *b.Total)
		}
	}
	if s, body := e.fhirDo(tok, "GET", "/Appointment/"+appt, ""); s != 200 {
		t.Errorf("read of an Appointment the patient takes part in: %d %.200s", s, body)
	}
	if s, _ := e.fhirDo(tok, "GET", "/Observation/_history", ""); s != 403 {
		t.Errorf("type history for a patient-limited token: %d, want 403", s)
	}
	user := e.launch("user/Observation.rs").AccessToken
	if s, body := e.fhirDo(user, "GET", "/Observation?patient="+other, ""); s != 200 || !strings.Contains(body, `"entry"`) {
		t.Errorf("user/ scope search of another patient: %d %.200s", s, body)
	}
}

// A granular scope keeps a search to the resources matching its parameters.
func TestGranularScopedSearch(t *testing.T) {
	e := newEnv(t)
	sys := e.adminToken()
	obs := func(cat string) string {
		return `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"` + labCat + `","code":"` + cat +
			`"}]}],"code":{"text":"x"},"subject":{"reference":"Patient/` + e.patient + `"}}`
	}
	lab := e.create(sys, "Observation", obs("laboratory"))
	e.create(sys, "Observation", obs("vital-signs"))
	tok := e.launch("launch/patient patient/Observation.rs?category=" + labCat + "|laboratory").AccessToken
	s, body := e.fhirDo(tok, "GET", "/Observation?_total=accurate", "")
	if s != 200 || !strings.Contains(body, `"total":1`) || !strings.Contains(body, lab) {
		t.Errorf("granular search: %d %.300s", s, body)
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
