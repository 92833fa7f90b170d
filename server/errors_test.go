package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

func TestErrorsAreOperationOutcomes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		id := c.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusCreated).json(t)["id"].(string)
		big := `{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` +
			strings.Repeat("x", 17<<20) + `</div>"}}`
		cases := []struct {
			name, method, path, body string
			headers                  []string
			status                   int
			expr                     string // expected expression of the first issue, if any
		}{
			{"malformed JSON", "POST", "/Patient", `{"resourceType":"Patient",`, nil, 400, ""},
			{"not an object", "POST", "/Patient", `[1,2]`, nil, 400, ""},
			{"empty body", "POST", "/Patient", ` `, nil, 400, ""},
			{"unknown element", "POST", "/Patient", `{"resourceType":"Patient","foo":1}`, nil, 400, "Patient.foo"},
			{"nested unknown element", "POST", "/Patient", `{"resourceType":"Patient","name":[{"given":["a"],"nick":"b"}]}`, nil, 400, "Patient.name[0].nick"},
			{"wrong type", "POST", "/Patient", `{"resourceType":"Patient","name":[{"family":1}]}`, nil, 400, "Patient.name[0].family"},
			{"invalid code", "POST", "/Patient", `{"resourceType":"Patient","gender":"robot"}`, nil, 400, "Patient.gender"},
			{"bad date", "POST", "/Patient", `{"resourceType":"Patient","birthDate":"1990-13-45"}`, nil, 400, "Patient.birthDate"},
			{"missing required", "POST", "/Communication", `{"resourceType":"Communication"}`, nil, 400, "Communication"},
			{"resourceType mismatch", "POST", "/Patient", `{"resourceType":"Practitioner"}`, nil, 400, "resourceType"},
			{"resourceType missing", "POST", "/Patient", `{"gender":"male"}`, nil, 400, "resourceType"},
			{"duplicate member", "POST", "/Patient", `{"resourceType":"Patient","gender":"male","gender":"female"}`, nil, 400, "gender"},
			{"id mismatch", "PUT", "/Patient/" + id, `{"resourceType":"Patient","id":"other"}`, nil, 400, "id"},
			{"id missing on update", "PUT", "/Patient/" + id, `{"resourceType":"Patient"}`, nil, 400, "id"},
			{"invalid id", "PUT", "/Patient/bad_id!", `{"resourceType":"Patient","id":"bad_id!"}`, nil, 400, ""},
			{"bad If-Match", "PUT", "/Patient/" + id, `{"resourceType":"Patient","id":"` + id + `"}`, []string{"If-Match", "nonsense"}, 400, ""},
			{"xml body", "POST", "/Patient", `<Patient/>`, []string{"Content-Type", "application/fhir+xml"}, 415, ""},
			{"patch wrong media", "PATCH", "/Patient/" + id, `[]`, nil, 415, ""},
			{"patch malformed", "PATCH", "/Patient/" + id, `{"op":1}`, []string{"Content-Type", "application/json-patch+json"}, 400, ""},
			{"patch invalid result", "PATCH", "/Patient/" + id, `[{"op":"add","path":"/gender","value":"robot"}]`, []string{"Content-Type", "application/json-patch+json"}, 422, "Patient.gender"},
			{"patch changes id", "PATCH", "/Patient/" + id, `[{"op":"replace","path":"/id","value":"x"}]`, []string{"Content-Type", "application/json-patch+json"}, 422, "id"},
			{"patch failed test", "PATCH", "/Patient/" + id, `[{"op":"test","path":"/gender","value":"male"}]`, []string{"Content-Type", "application/json-patch+json"}, 422, ""},
			{"patch missing", "PATCH", "/Patient/nope", `[]`, []string{"Content-Type", "application/json-patch+json"}, 404, ""},
			{"too large", "POST", "/Patient", big, nil, 413, ""},
			{"unknown type", "GET", "/Nonsense/1", "", nil, 404, ""},
			{"unknown resource", "GET", "/Patient/does-not-exist", "", nil, 404, ""},
			{"unknown route", "GET", "/Patient/1/2/3/4", "", nil, 404, ""},
			{"outside /fhir", "GET", srv.URL + "/nothing-here", "", nil, 404, ""},
			{"method not allowed", "DELETE", "/metadata", "", nil, 405, ""},
			{"post to instance", "POST", "/Patient/" + id, `{}`, nil, 405, ""},
			{"bad search value", "GET", "/Patient?birthdate=yesterday", "", nil, 400, "birthdate"},
			{"unsupported search parameter", "GET", "/Observation?code-value-quantity=x", "", nil, 400, "code-value-quantity"},
			{"bad _count", "GET", "/Patient/_history?_count=x", "", nil, 400, "_count"},
			{"bad _since", "GET", "/_history?_since=yesterday", "", nil, 400, "_since"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := c.do("GET", "/Patient/_history", "").expect(t, 200).json(t)
				r := c.do(tc.method, tc.path, tc.body, tc.headers...).expect(t, tc.status)
				issue := r.outcome(t)
				if tc.expr != "" && expression(issue) != tc.expr {
					t.Fatalf("expression %q, want %q (%s)", expression(issue), tc.expr, r.body)
				}
				after := c.do("GET", "/Patient/_history", "").expect(t, 200).json(t)
				if len(after["entry"].([]any)) != len(before["entry"].([]any)) {
					t.Fatal("a failed request wrote a version")
				}
			})
		}
	})
}

func TestAuthenticationIsClosed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		anon := client{t: t, srv: srv}
		meta := anon.do("GET", "/metadata", "").expect(t, http.StatusOK).json(t)
		if meta["resourceType"] != "CapabilityStatement" || meta["fhirVersion"] != "4.0.1" {
			t.Fatalf("metadata %v", meta["resourceType"])
		}
		rest := meta["rest"].([]any)[0].(map[string]any)
		var system []string
		for _, i := range rest["interaction"].([]any) {
			system = append(system, i.(map[string]any)["code"].(string))
		}
		if strings.Join(system, ",") != "transaction,batch,history-system,search-system" || len(rest["resource"].([]any)) != 146 {
			t.Fatalf("system interactions %v, %d resource types", system, len(rest["resource"].([]any)))
		}
		for _, path := range []string{"/Patient/1", "/Patient/_history", "/_history"} {
			r := anon.do("GET", path, "").expect(t, http.StatusUnauthorized)
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("%s: WWW-Authenticate %q", path, r.header.Get("WWW-Authenticate"))
			}
			r.outcome(t)
		}
		bad := client{t: t, srv: srv, token: "not-a-jwt"}
		r := bad.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusUnauthorized)
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
		}

		// Scopes are enforced per interaction.
		reader := client{t: t, srv: srv, token: srv.Token("default", "system/Patient.rs")}
		reader.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusForbidden).outcome(t)
		reader.do("GET", "/Communication/x", "").expect(t, http.StatusForbidden).outcome(t)
		reader.do("GET", "/_history", "").expect(t, http.StatusForbidden).outcome(t)
		reader.do("GET", "/Patient/_history", "").expect(t, http.StatusOK)

		// A token is bound to its tenant: nothing crosses over.
		a := client{t: t, srv: srv, token: srv.Token("tenant-a", "system/*.cruds")}
		b := client{t: t, srv: srv, token: srv.Token("tenant-b", "system/*.cruds")}
		id := a.do("POST", "/Patient", `{"resourceType":"Patient"}`).expect(t, http.StatusCreated).json(t)["id"].(string)
		a.do("GET", "/Patient/"+id, "").expect(t, http.StatusOK)
		b.do("GET", "/Patient/"+id, "").expect(t, http.StatusNotFound)
		b.do("GET", "/Patient/"+id+"/_history", "").expect(t, http.StatusNotFound)
		hist := b.do("GET", "/_history", "").expect(t, http.StatusOK).json(t)
		if _, ok := hist["entry"]; ok {
			t.Fatalf("tenant b sees history of tenant a: %v", hist["entry"])
		}
		b.do("PUT", "/Patient/"+id, `{"resourceType":"Patient","id":"`+id+`"}`).expect(t, http.StatusCreated)
		if a.do("GET", "/Patient/"+id, "").expect(t, http.StatusOK).json(t)["meta"].(map[string]any)["versionId"] != "1" {
			t.Fatal("tenant b's write changed tenant a's resource")
		}
	})
}
