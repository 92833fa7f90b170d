package server_test

import (
	"net/http"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

func TestSearchSmoke(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		for _, body := range []string{
			`{"resourceType":"Patient","name":[{"family":"Müller","given":["Peter"]}],"gender":"male","birthDate":"1974-12-25"}`,
			`{"resourceType":"Patient","name":[{"family":"Mueller","given":["Anna"]}],"gender":"female","birthDate":"1980"}`,
			`{"resourceType":"Patient","name":[{"family":"Smith"}],"gender":"female"}`,
		} {
			c.do("POST", "/Patient", body).expect(t, http.StatusCreated)
		}
		for _, q := range []string{"family=mul", "gender=female", "birthdate=1974", "birthdate=ge1975", "_sort=-family&_count=1", "name:exact=Smith", "gender:missing=true", "family=m,s&_total=accurate", "_summary=count", "foo=bar"} {
			r := c.do("GET", "/Patient?"+q, "").expect(t, http.StatusOK)
			t.Logf("%s: %s", q, r.body)
		}
	})
}
