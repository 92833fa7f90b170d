package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

const labCat = "http://terminology.hl7.org/CodeSystem/observation-category"

// SMART v1 and v2 scopes are enforced on every interaction, patient/ scopes
// only reach the launch patient's compartment, and granular scopes only
// the resources matching them. Too little scope is 403 with an
// OperationOutcome.
func TestScopeEnforcement(t *testing.T) {
	e := newEnv(t)
	sys := e.adminToken()
	other := e.create(sys, "Patient", `{"resourceType":"Patient","name":[{"family":"Other"}]}`)
	obs := func(patient, cat string) string {
		return `{"resourceType":"Observation","status":"final","category":[{"coding":[{"system":"` + labCat + `","code":"` + cat +
			`"}]}],"code":{"text":"x"},"subject":{"reference":"Patient/` + patient + `"}}`
	}
	lab := e.create(sys, "Observation", obs(e.patient, "laboratory"))
	vital := e.create(sys, "Observation", obs(e.patient, "vital-signs"))
	foreign := e.create(sys, "Observation", obs(other, "laboratory"))

	type step struct {
		method, path, body string
		want               int
	}
	cases := []struct {
		name, scope string
		steps       []step
	}{
		{"v1 patient read", "launch/patient patient/Observation.read", []step{
			{"GET", "/Observation/" + lab, "", 200},
			{"GET", "/Observation/" + lab + "/_history/1", "", 200},
			{"GET", "/Observation/" + lab + "/_history", "", 200},
			{"GET", "/Observation/" + foreign, "", 403},
			{"GET", "/Observation/" + foreign + "/_history", "", 403},
			{"GET", "/Patient/" + e.patient, "", 403},
			{"GET", "/Observation/_history", "", 403},
			{"POST", "/Observation", obs(e.patient, "laboratory"), 403},
		}},
		{"v2 create and read", "launch/patient patient/Observation.rs patient/Observation.c", []step{
			{"POST", "/Observation", obs(e.patient, "laboratory"), 201},
			{"POST", "/Observation", obs(other, "laboratory"), 403},
			{"PUT", "/Observation/" + lab, withID(obs(e.patient, "laboratory"), lab), 403},
			{"DELETE", "/Observation/" + lab, "", 403},
		}},
		{"v2 all on the patient", "launch/patient patient/*.cruds", []step{
			{"GET", "/Patient/" + e.patient, "", 200},
			{"GET", "/Patient/" + other, "", 403},
			{"PUT", "/Observation/" + vital, withID(obs(e.patient, "vital-signs"), vital), 200},
			{"PUT", "/Observation/" + vital, withID(obs(other, "vital-signs"), vital), 403},
			{"PUT", "/Observation/" + foreign, withID(obs(e.patient, "laboratory"), foreign), 403},
			{"DELETE", "/Observation/" + foreign, "", 403},
			{"POST", "/Communication", `{"resourceType":"Communication","status":"completed","subject":{"reference":"Patient/` + e.patient + `"}}`, 201},
		}},
		{"v2 granular category", "launch/patient patient/Observation.rs?category=" + labCat + "|laboratory", []step{
			{"GET", "/Observation/" + lab, "", 200},
			{"GET", "/Observation/" + vital, "", 403},
			{"GET", "/Observation/" + foreign, "", 403},
		}},
		{"user scope reaches every patient", "user/Observation.rs", []step{
			{"GET", "/Observation/" + foreign, "", 200},
			{"GET", "/Observation/" + lab, "", 200},
			{"DELETE", "/Observation/" + lab, "", 403},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := e.launch(tc.scope).AccessToken
			for _, s := range tc.steps {
				status, body := e.fhirDo(tok, s.method, s.path, s.body)
				if status != s.want {
					t.Errorf("%s %s = %d, want %d: %s", s.method, s.path, status, s.want, body)
				}
				if status == 403 && !strings.Contains(body, `"OperationOutcome"`) {
					t.Errorf("%s %s: 403 without an OperationOutcome: %s", s.method, s.path, body)
				}
			}
		})
	}
	t.Run("system create only", func(t *testing.T) {
		tok := e.srv.Token(e.tenant, "system/Communication.c")
		if s, b := e.fhirDo(tok, "POST", "/Communication", `{"resourceType":"Communication","status":"completed"}`); s != 201 {
			t.Fatalf("create: %d %s", s, b)
		}
		if s, _ := e.fhirDo(tok, "GET", "/Observation/"+lab, ""); s != 403 {
			t.Errorf("read with system/Communication.c: %d", s)
		}
	})
}

func withID(body, id string) string {
	return strings.Replace(body, `{"resourceType":"Observation",`, `{"resourceType":"Observation","id":"`+id+`",`, 1)
}

func (e *env) fhirDo(token, method, path, body string) (int, string) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.FHIR()+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
