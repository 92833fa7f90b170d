package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/hearthtest"
)

// searchset is the part of a searchset the tests look at.
type searchset struct {
	Type  string `json:"type"`
	Total *int   `json:"total"`
	Link  []struct {
		Relation, URL string
	} `json:"link"`
	Entry []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Search   struct{ Mode string }
	} `json:"entry"`
}

func (c client) search(t *testing.T, method, path, body string, headers ...string) searchset {
	t.Helper()
	if body != "" {
		headers = append(headers, "Content-Type", "application/x-www-form-urlencoded")
	}
	r := c.do(method, path, body, headers...).expect(t, http.StatusOK)
	var b searchset
	if err := json.Unmarshal(r.body, &b); err != nil || b.Type != "searchset" {
		t.Fatalf("not a searchset (%v): %s", err, r.body)
	}
	return b
}

// ids lists "Type/id" of the entries of one search mode.
func (b searchset) ids(mode string) []string {
	var out []string
	for _, e := range b.Entry {
		if e.Search.Mode == mode {
			var h struct{ ResourceType, ID string }
			_ = json.Unmarshal(e.Resource, &h)
			out = append(out, h.ResourceType+"/"+h.ID)
		}
	}
	return out
}

func (b searchset) link(rel string) string {
	for _, l := range b.Link {
		if l.Relation == rel {
			return l.URL
		}
	}
	return ""
}

// seed creates patients and observations through the API and returns the
// ids of the patients by family name.
func seed(t *testing.T, c client) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, p := range []struct{ family, gender, birth string }{
		{"Müller", "male", "1974-12-25"}, {"Mueller", "female", "1980"}, {"Smith", "female", "1990-06-01"},
		{"Jones", "male", "1955"}, {"Jónsdóttir", "female", "2001-02-03"},
	} {
		body := `{"resourceType":"Patient","name":[{"family":"` + p.family + `"}],"gender":"` + p.gender + `","birthDate":"` + p.birth + `"}`
		ids[p.family] = c.do("POST", "/Patient", body).expect(t, http.StatusCreated).json(t)["id"].(string)
	}
	for _, o := range []struct{ family, code string }{{"Müller", "8302-2"}, {"Müller", "29463-7"}, {"Smith", "8302-2"}} {
		body := `{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"` + o.code +
			`"}]},"subject":{"reference":"Patient/` + ids[o.family] + `"}}`
		c.do("POST", "/Observation", body).expect(t, http.StatusCreated)
	}
	return ids
}

func TestSearchHTTP(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		ids := seed(t, c)

		t.Run("type level", func(t *testing.T) {
			b := c.search(t, "GET", "/Patient?family=muller", "")
			if got := b.ids("match"); !slices.Equal(got, []string{"Patient/" + ids["Müller"]}) {
				t.Fatalf("matches %v", got)
			}
			if b.Total != nil || b.link("self") != srv.FHIR()+"/Patient?family=muller" {
				t.Fatalf("total %v (counted without _total), links %v", b.Total, b.Link)
			}
			if counted := c.search(t, "GET", "/Patient?family=muller&_total=accurate", ""); counted.Total == nil || *counted.Total != 1 {
				t.Fatalf("_total=accurate gave total %v", counted.Total)
			}
			read := c.do("GET", "/Patient/"+ids["Müller"], "").expect(t, http.StatusOK)
			if string(b.Entry[0].Resource) != string(read.body) || b.Entry[0].FullURL != srv.FHIR()+"/Patient/"+ids["Müller"] {
				t.Fatalf("entry is not the stored resource byte for byte:\n%s\n%s", b.Entry[0].Resource, read.body)
			}
		})

		t.Run("POST _search", func(t *testing.T) {
			b := c.search(t, "POST", "/Patient/_search?gender=female", "family=j%C3%B3n&_count=5")
			if got := b.ids("match"); !slices.Equal(got, []string{"Patient/" + ids["Jónsdóttir"]}) {
				t.Fatalf("matches %v", got)
			}
			if !strings.HasPrefix(b.link("self"), srv.FHIR()+"/Patient?") {
				t.Fatalf("self link %q is not a GET URL", b.link("self"))
			}
			c.do("POST", "/Patient/_search", `{"family":"x"}`, "Content-Type", "application/json").
				expect(t, http.StatusUnsupportedMediaType).outcome(t)
		})

		t.Run("system level", func(t *testing.T) {
			q := "/?_type=Patient,Observation&_id=" + ids["Smith"] + "," + ids["Jones"]
			b := c.search(t, "GET", q, "")
			got := b.ids("match")
			slices.Sort(got)
			want := []string{"Patient/" + ids["Jones"], "Patient/" + ids["Smith"]}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("matches %v, want %v", got, want)
			}
			all := c.search(t, "GET", "?_count=100&_total=accurate", "")
			if all.Total == nil || *all.Total != 8 {
				t.Fatalf("system search finds %d resources, want 8", *all.Total)
			}
			c.do("GET", "/?_type=Patient&family=x", "").expect(t, http.StatusOK)
			c.do("GET", "/?_type=Patient,Observation&family=x", "", "Prefer", "handling=strict").
				expect(t, http.StatusBadRequest).outcome(t)
		})

		t.Run("paging by links", func(t *testing.T) {
			var seen []string
			link := "/Patient?_count=2&_sort=birthdate"
			pages := 0
			for link != "" {
				b := c.search(t, "GET", link, "")
				seen = append(seen, b.ids("match")...)
				link = b.link("next")
				pages++
			}
			if len(seen) != 5 || pages != 3 {
				t.Fatalf("paging gave %d resources in %d pages", len(seen), pages)
			}
			if seen[0] != "Patient/"+ids["Jones"] || seen[4] != "Patient/"+ids["Jónsdóttir"] {
				t.Fatalf("order %v", seen)
			}
			last := c.search(t, "GET", "/Patient?_count=2&_sort=birthdate", "")
			next := c.search(t, "GET", last.link("next"), "")
			back := c.search(t, "GET", next.link("previous"), "")
			if !slices.Equal(back.ids("match"), last.ids("match")) {
				t.Fatalf("previous of next is %v, want %v", back.ids("match"), last.ids("match"))
			}
			c.do("GET", "/Patient?_cursor=garbage", "").expect(t, http.StatusBadRequest).outcome(t)
		})

		t.Run("include", func(t *testing.T) {
			b := c.search(t, "GET", "/Observation?code=8302-2&_include=Observation:subject&_revinclude=Observation:subject", "")
			// No Observation refers to an Observation: the revinclude adds nothing.
			if len(b.ids("match")) != 2 || len(b.ids("include")) != 2 {
				t.Fatalf("matches %v, included %v", b.ids("match"), b.ids("include"))
			}
			b = c.search(t, "GET", "/Patient?_id="+ids["Müller"]+"&_revinclude=Observation:patient", "")
			if len(b.ids("include")) != 2 {
				t.Fatalf("revinclude gave %v", b.ids("include"))
			}
		})

		t.Run("chain and has", func(t *testing.T) {
			b := c.search(t, "GET", "/Observation?subject:Patient.family=smith", "")
			if len(b.ids("match")) != 1 {
				t.Fatalf("chain gave %v", b.ids("match"))
			}
			b = c.search(t, "GET", "/Patient?_has:Observation:subject:code=8302-2", "")
			if len(b.ids("match")) != 2 {
				t.Fatalf("_has gave %v", b.ids("match"))
			}
		})

		t.Run("lenient and strict", func(t *testing.T) {
			b := c.search(t, "GET", "/Patient?nonsense=1&family=smith", "")
			if len(b.ids("match")) != 1 || len(b.ids("outcome")) != 1 {
				t.Fatalf("lenient search: %v, outcome %v", b.ids("match"), b.ids("outcome"))
			}
			b = c.search(t, "GET", "/Patient?nonsense=1&family=smith", "", "Prefer", "handling=lenient")
			if len(b.ids("outcome")) != 1 {
				t.Fatal("no outcome entry with handling=lenient")
			}
			r := c.do("GET", "/Patient?nonsense=1", "", "Prefer", "handling=strict").expect(t, http.StatusBadRequest)
			if expression(r.outcome(t)) != "nonsense" {
				t.Fatalf("strict outcome %s", r.body)
			}
			r = c.do("GET", "/Observation?combo-code-value-quantity=x", "").expect(t, http.StatusBadRequest)
			if expression(r.outcome(t)) != "combo-code-value-quantity" {
				t.Fatalf("composite outcome %s", r.body)
			}
		})

		t.Run("summary and elements", func(t *testing.T) {
			b := c.search(t, "GET", "/Patient?_summary=count", "")
			if *b.Total != 5 || len(b.Entry) != 0 {
				t.Fatalf("_summary=count gave total %v and %d entries", b.Total, len(b.Entry))
			}
			b = c.search(t, "GET", "/Patient?_id="+ids["Smith"]+"&_elements=gender", "")
			var p map[string]any
			_ = json.Unmarshal(b.Entry[0].Resource, &p)
			if p["gender"] != "female" || p["name"] != nil || p["birthDate"] != nil ||
				!strings.Contains(string(b.Entry[0].Resource), "SUBSETTED") {
				t.Fatalf("_elements=gender gave %s", b.Entry[0].Resource)
			}
			b = c.search(t, "GET", "/Patient?_id="+ids["Smith"]+"&_summary=true", "")
			if !strings.Contains(string(b.Entry[0].Resource), `"birthDate"`) {
				t.Fatalf("_summary=true dropped a summary element: %s", b.Entry[0].Resource)
			}
		})
	})
}

func TestSearchScopes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		admin := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		ids := seed(t, admin)
		readOnly := client{t: t, srv: srv, token: srv.Token("default", "system/Patient.r")}
		readOnly.do("GET", "/Patient?family=smith", "").expect(t, http.StatusForbidden).outcome(t)

		obs := client{t: t, srv: srv, token: srv.Token("default", "system/Observation.rs")}
		if b := obs.search(t, "GET", "/Observation?code=8302-2", ""); len(b.ids("match")) != 2 {
			t.Fatalf("search with .rs: %v", b.ids("match"))
		}
		// Included types need read: named ones are refused, others left out.
		obs.do("GET", "/Observation?_include=Observation:subject:Patient", "").expect(t, http.StatusForbidden).outcome(t)
		if b := obs.search(t, "GET", "/Observation?_include=Observation:subject", ""); len(b.ids("include")) != 0 {
			t.Fatalf("included resources the token may not read: %v", b.ids("include"))
		}
		// A chain through a type the caller may not read matches nothing,
		// or it would reveal the values of those resources.
		if b := obs.search(t, "GET", "/Observation?subject:Patient.family=smith", ""); len(b.ids("match")) != 0 {
			t.Fatalf("chain through an unreadable type matched %v", b.ids("match"))
		}
		obs.do("GET", "/?_type=Patient", "").expect(t, http.StatusForbidden)
		obs.do("GET", "/", "").expect(t, http.StatusForbidden)
		// Conditional interactions need search too.
		obsWrite := client{t: t, srv: srv, token: srv.Token("default", "system/Patient.cud")}
		obsWrite.do("DELETE", "/Patient?_id="+ids["Smith"], "").expect(t, http.StatusForbidden)
	})
}

func TestConditionalUpdateAndDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		mrn := func(v, family string) string {
			return `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"` + v + `"}],"name":[{"family":"` + family + `"}]}`
		}
		// No match: created.
		created := c.do("PUT", "/Patient?identifier=urn:mrn|1", mrn("1", "A")).expect(t, http.StatusCreated).json(t)
		id := created["id"].(string)
		// One match: updated, the id taken from the match.
		updated := c.do("PUT", "/Patient?identifier=urn:mrn|1", mrn("1", "B")).expect(t, http.StatusOK).json(t)
		if updated["id"] != id || updated["meta"].(map[string]any)["versionId"] != "2" {
			t.Fatalf("conditional update wrote %v", updated)
		}
		// An id in the body must be the match's.
		withID := strings.Replace(mrn("1", "C"), `"resourceType":"Patient"`, `"resourceType":"Patient","id":"other"`, 1)
		c.do("PUT", "/Patient?identifier=urn:mrn|1", withID).expect(t, http.StatusBadRequest).outcome(t)
		// Several matches: 412.
		c.do("POST", "/Patient", mrn("1", "D")).expect(t, http.StatusCreated)
		c.do("PUT", "/Patient?identifier=urn:mrn|1", mrn("1", "E")).expect(t, http.StatusPreconditionFailed).outcome(t)
		c.do("DELETE", "/Patient?identifier=urn:mrn|1", "").expect(t, http.StatusPreconditionFailed).outcome(t)
		// One match: deleted; no match: nothing to do.
		c.do("DELETE", "/Patient?family=b", "").expect(t, http.StatusNoContent)
		c.do("GET", "/Patient/"+id, "").expect(t, http.StatusGone)
		c.do("DELETE", "/Patient?family=b", "").expect(t, http.StatusNoContent)
		c.do("DELETE", "/Patient", "").expect(t, http.StatusBadRequest).outcome(t)
		c.do("DELETE", "/Patient?bogus=1", "").expect(t, http.StatusBadRequest).outcome(t)
		c.do("PUT", "/Patient?bogus=1", mrn("9", "Z")).expect(t, http.StatusBadRequest).outcome(t)
	})
}

func TestCapabilityStatementSearch(t *testing.T) {
	srv := hearthtest.Start(t, hearthtest.OpenStore(t, "sqlite"))
	c := client{t: t, srv: srv}
	var cs struct {
		Rest []struct {
			Interaction []struct{ Code string }
			Resource    []struct {
				Type              string
				Interaction       []struct{ Code string }
				ConditionalDelete string
				SearchParam       []struct{ Name, Type, Documentation string }
			}
		}
	}
	if err := json.Unmarshal(c.do("GET", "/metadata", "").expect(t, http.StatusOK).body, &cs); err != nil {
		t.Fatal(err)
	}
	for _, r := range cs.Rest[0].Resource {
		if r.Type != "Patient" {
			continue
		}
		var names []string
		for _, p := range r.SearchParam {
			names = append(names, p.Name)
			if p.Name == "family" && !strings.Contains(p.Documentation, "exact") {
				t.Errorf("family documents %q", p.Documentation)
			}
		}
		for _, want := range []string{"family", "birthdate", "identifier", "_id", "_lastUpdated", "organization"} {
			if !slices.Contains(names, want) {
				t.Errorf("Patient does not advertise %s", want)
			}
		}
		if slices.Contains(names, "_text") || slices.Contains(names, "_content") {
			t.Error("advertises unsupported parameters")
		}
		if r.ConditionalDelete != "single" {
			t.Errorf("conditionalDelete %q", r.ConditionalDelete)
		}
		return
	}
	t.Fatal("no Patient in the CapabilityStatement")
}
