package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/hearthtest"
)

const communication = `{"resourceType":"Communication","status":"completed",
 "identifier":[{"system":"urn:test","value":"c-1"}],
 "payload":[{"contentString":"Grüße — see you at 10"}]}`

func TestCRUDLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}

		created := c.do("POST", "/Communication", communication).expect(t, http.StatusCreated)
		loc := created.header.Get("Location")
		if !strings.HasPrefix(loc, srv.FHIR()+"/Communication/") || !strings.HasSuffix(loc, "/_history/1") {
			t.Fatalf("Location %q", loc)
		}
		if created.header.Get("ETag") != `W/"1"` {
			t.Fatalf("ETag %q", created.header.Get("ETag"))
		}
		if _, err := time.Parse(http.TimeFormat, created.header.Get("Last-Modified")); err != nil {
			t.Fatalf("Last-Modified %q: %v", created.header.Get("Last-Modified"), err)
		}
		res := created.json(t)
		id := res["id"].(string)
		meta := res["meta"].(map[string]any)
		if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
			t.Fatalf("meta %v", meta)
		}
		if res["payload"].([]any)[0].(map[string]any)["contentString"] != "Grüße — see you at 10" {
			t.Fatalf("payload not kept: %s", created.body)
		}

		read := c.do("GET", "/Communication/"+id, "").expect(t, http.StatusOK)
		if string(read.body) != string(created.body) {
			t.Fatalf("read differs from create:\n%s\n%s", read.body, created.body)
		}
		if read.header.Get("ETag") != `W/"1"` {
			t.Fatalf("read ETag %q", read.header.Get("ETag"))
		}

		// Server-owned meta wins over what the client sends.
		upd := strings.Replace(communication, `"status":"completed"`,
			`"id":"`+id+`","meta":{"versionId":"99","lastUpdated":"2001-01-01T00:00:00Z","tag":[{"code":"x"}]},"status":"in-progress"`, 1)
		updated := c.do("PUT", "/Communication/"+id, upd, "If-Match", `W/"1"`).expect(t, http.StatusOK)
		um := updated.json(t)["meta"].(map[string]any)
		if um["versionId"] != "2" || um["lastUpdated"] == "2001-01-01T00:00:00Z" || um["tag"] == nil {
			t.Fatalf("meta after update %v", um)
		}
		c.do("PUT", "/Communication/"+id, upd, "If-Match", `W/"1"`).expect(t, http.StatusPreconditionFailed).outcome(t)

		patched := c.do("PATCH", "/Communication/"+id, `[{"op":"replace","path":"/status","value":"completed"}]`,
			"Content-Type", "application/json-patch+json", "If-Match", `W/"2"`).expect(t, http.StatusOK).json(t)
		if patched["status"] != "completed" || patched["meta"].(map[string]any)["versionId"] != "3" {
			t.Fatalf("patch result %v", patched)
		}

		v1 := c.do("GET", "/Communication/"+id+"/_history/1", "").expect(t, http.StatusOK)
		if string(v1.body) != string(created.body) {
			t.Fatal("vread of version 1 differs from the created resource")
		}

		c.do("DELETE", "/Communication/"+id, "").expect(t, http.StatusNoContent)
		c.do("GET", "/Communication/"+id, "").expect(t, http.StatusGone).outcome(t)
		c.do("DELETE", "/Communication/"+id, "").expect(t, http.StatusNoContent)
		c.do("GET", "/Communication/"+id+"/_history/2", "").expect(t, http.StatusOK)
		c.do("GET", "/Communication/"+id+"/_history/4", "").expect(t, http.StatusGone)
		c.do("GET", "/Communication/"+id+"/_history/9", "").expect(t, http.StatusNotFound)

		hist := c.do("GET", "/Communication/"+id+"/_history", "").expect(t, http.StatusOK).json(t)
		entries := hist["entry"].([]any)
		var methods []string
		for _, e := range entries {
			methods = append(methods, e.(map[string]any)["request"].(map[string]any)["method"].(string))
		}
		if strings.Join(methods, ",") != "DELETE,PUT,PUT,POST" || hist["type"] != "history" {
			t.Fatalf("history methods %v", methods)
		}

		// Update after delete brings the resource back as a new version.
		c.do("PUT", "/Communication/"+id, upd).expect(t, http.StatusCreated)
		c.do("GET", "/Communication/"+id, "").expect(t, http.StatusOK)

		// Update-as-create with a client-chosen id.
		c.do("PUT", "/Communication/chosen-1", strings.Replace(communication, `"status"`, `"id":"chosen-1","status"`, 1)).
			expect(t, http.StatusCreated)
	})
}

func TestPrefer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		min := c.do("POST", "/Communication", communication, "Prefer", "return=minimal").expect(t, http.StatusCreated)
		if len(min.body) != 0 || min.header.Get("Location") == "" {
			t.Fatalf("return=minimal gave body %q, Location %q", min.body, min.header.Get("Location"))
		}
		oo := c.do("POST", "/Communication", communication, "Prefer", "return=OperationOutcome").expect(t, http.StatusCreated)
		if issue := oo.outcome(t); issue["severity"] != "information" {
			t.Fatalf("issue %v", issue)
		}
		pretty := c.do("POST", "/Communication?_pretty=true", communication).expect(t, http.StatusCreated)
		if !strings.Contains(string(pretty.body), "\n  \"resourceType\"") {
			t.Fatalf("_pretty=true not indented: %s", pretty.body)
		}
		id := pretty.json(t)["id"].(string)
		plain := c.do("GET", "/Communication/"+id+"?_format=json", "").expect(t, http.StatusOK)
		if compact(t, pretty.body) != string(plain.body) {
			t.Fatal("_pretty output is not the stored resource")
		}
		c.do("GET", "/Communication/"+id+"?_format=xml", "").expect(t, http.StatusNotAcceptable).outcome(t)
		c.do("GET", "/Communication/"+id, "", "Accept", "application/fhir+xml").expect(t, http.StatusNotAcceptable).outcome(t)
	})
}

func TestConditionalCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		patient := `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"42"}]}`
		first := c.do("POST", "/Patient", patient, "If-None-Exist", "identifier=urn:mrn|42").expect(t, http.StatusCreated)
		again := c.do("POST", "/Patient", patient, "If-None-Exist", "identifier=urn:mrn|42").expect(t, http.StatusOK)
		if first.json(t)["id"] != again.json(t)["id"] {
			t.Fatal("conditional create made a second resource")
		}
		id := first.json(t)["id"].(string)
		c.do("POST", "/Patient", patient, "If-None-Exist", "_id="+id).expect(t, http.StatusOK)
		c.do("POST", "/Patient", patient, "If-None-Exist", "identifier=42").expect(t, http.StatusOK)
		c.do("POST", "/Patient", patient).expect(t, http.StatusCreated) // a second one, unconditionally
		c.do("POST", "/Patient", patient, "If-None-Exist", "identifier=urn:mrn|42").
			expect(t, http.StatusPreconditionFailed).outcome(t)
		// Unknown parameters are refused: ignoring one would match too much.
		c.do("POST", "/Patient", patient, "If-None-Exist", "nonsense=x").expect(t, http.StatusBadRequest).outcome(t)
		// Any search works as a condition; this one matches nothing.
		c.do("POST", "/Patient", `{"resourceType":"Patient","name":[{"family":"Zed"}]}`, "If-None-Exist", "family=zed&identifier=urn:mrn|42").
			expect(t, http.StatusCreated)
		c.do("POST", "/Patient", patient, "If-None-Exist", "family=zed").expect(t, http.StatusOK)
		c.do("POST", "/Patient", patient, "If-None-Exist", "identifier=urn:mrn|43").expect(t, http.StatusCreated)
	})
}
