package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/hearthtest"
	"github.com/hearth-fhir/hearth/store"
)

// synthea is the Synthea sample as loaded: every resource as decoded JSON
// with references rewritten to the ids the server assigned, so that
// expected search results can be computed by walking the data, without
// the search engine.
type synthea struct {
	byType map[string][]map[string]any // resources by type
}

// loadSynthea posts the 37 Synthea transaction Bundles (and the hospital
// and practitioner ones) and rebuilds the resources as stored, from the
// locations the transactions answered with.
func loadSynthea(t *testing.T, c client) synthea {
	t.Helper()
	data := synthea{byType: map[string][]map[string]any{}}
	for _, b := range hearthtest.SyntheaBundles(t) {
		r := c.do("POST", "", string(b.JSON), "Prefer", "return=minimal").expect(t, http.StatusOK)
		var req, resp struct {
			Entry []struct {
				FullURL  string         `json:"fullUrl"`
				Resource map[string]any `json:"resource"`
				Response struct{ Location string }
			} `json:"entry"`
		}
		if json.Unmarshal(b.JSON, &req) != nil || json.Unmarshal(r.body, &resp) != nil || len(req.Entry) != len(resp.Entry) {
			t.Fatalf("%s: transaction response does not match the request", b.Name)
		}
		refs := map[string]string{}
		for i, e := range req.Entry {
			loc := strings.TrimPrefix(resp.Entry[i].Response.Location, c.srv.FHIR()+"/")
			refs[e.FullURL] = strings.Split(loc, "/_history/")[0]
		}
		for i, e := range req.Entry {
			res := rewriteRefs(e.Resource, refs).(map[string]any)
			res["id"] = strings.Split(refs[e.FullURL], "/")[1]
			typ := res["resourceType"].(string)
			data.byType[typ] = append(data.byType[typ], res)
			_ = i
		}
	}
	return data
}

// rewriteRefs replaces urn:uuid references with Type/id.
func rewriteRefs(v any, refs map[string]string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" && refs[s] != "" {
				x[k] = refs[s]
				continue
			}
			x[k] = rewriteRefs(e, refs)
		}
	case []any:
		for i, e := range x {
			x[i] = rewriteRefs(e, refs)
		}
	}
	return v
}

// where lists "Type/id" of the resources of typ for which keep holds.
func (s synthea) where(typ string, keep func(r map[string]any) bool) []string {
	var out []string
	for _, r := range s.byType[typ] {
		if keep(r) {
			out = append(out, typ+"/"+r["id"].(string))
		}
	}
	slices.Sort(out)
	return out
}

// path walks nested members; arrays are searched for the first element
// that has the rest of the path.
func path(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			for _, e := range x {
				if got := path(e, append([]string{k}, keys[1:]...)...); got != nil {
					return got
				}
			}
			return nil
		default:
			return nil
		}
		keys = keys[1:]
		_ = keys
	}
	return v
}

// hasCoding reports whether a CodeableConcept holds system|code.
func hasCoding(cc any, system, code string) bool {
	m, _ := cc.(map[string]any)
	codings, _ := m["coding"].([]any)
	for _, c := range codings {
		cm, _ := c.(map[string]any)
		if cm["system"] == system && cm["code"] == code {
			return true
		}
	}
	return false
}

func ref(r map[string]any, key string) string {
	m, _ := r[key].(map[string]any)
	s, _ := m["reference"].(string)
	return s
}

func instant(t *testing.T, v any) time.Time {
	s, _ := v.(string)
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("not an instant: %v", v)
	}
	return tm
}

// searchAll follows next links and returns every match as "Type/id".
func (c client) searchAll(t *testing.T, query string) []string {
	t.Helper()
	var out []string
	for link := query; link != ""; {
		b := c.search(t, "GET", link, "")
		out = append(out, b.ids("match")...)
		link = b.link("next")
	}
	slices.Sort(out)
	return out
}

func TestSearchSynthea(t *testing.T) {
	forEachBackend(t, func(t *testing.T, srv *hearthtest.Server) {
		c := client{t: t, srv: srv, token: srv.Token("default", "system/*.cruds")}
		data := loadSynthea(t, c)
		// As a bulk import does: plans need statistics of the loaded tables.
		if err := srv.Store.(store.Analyzer).Analyze(context.Background()); err != nil {
			t.Fatal(err)
		}
		patients := data.byType["Patient"]
		if len(patients) != 37 || len(data.byType["Observation"]) != 4319 {
			t.Fatalf("loaded %d patients, %d observations", len(patients), len(data.byType["Observation"]))
		}
		someone := patients[5]
		someID := "Patient/" + someone["id"].(string)
		family := path(someone, "name", "family").(string)
		loinc := "http://loinc.org"
		height := func(r map[string]any) bool { return hasCoding(r["code"], loinc, "8302-2") }
		taller := func(limitCM float64) func(r map[string]any) bool {
			return func(r map[string]any) bool {
				if !height(r) {
					return false
				}
				v, _ := path(r, "valueQuantity", "value").(float64)
				return path(r, "valueQuantity", "code") == "cm" && v > limitCM
			}
		}
		june := time.Date(2019, 6, 2, 0, 0, 0, 0, time.UTC)
		cases := []struct {
			name, query string
			want        []string
		}{
			{"token gender", "/Patient?gender=female", data.where("Patient", func(r map[string]any) bool { return r["gender"] == "female" })},
			{"date birthdate", "/Patient?birthdate=lt1960", data.where("Patient", func(r map[string]any) bool {
				return r["birthDate"].(string) < "1960"
			})},
			{"string family prefix", "/Patient?family=" + url.QueryEscape(strings.ToLower(family[:3])), data.where("Patient", func(r map[string]any) bool {
				return strings.HasPrefix(strings.ToLower(path(r, "name", "family").(string)), strings.ToLower(family[:3]))
			})},
			{"token code", "/Observation?code=" + url.QueryEscape(loinc+"|8302-2"), data.where("Observation", height)},
			{"quantity in cm", "/Observation?code=8302-2&value-quantity=" + url.QueryEscape("gt180|http://unitsofmeasure.org|cm"),
				data.where("Observation", taller(180))},
			{"quantity converted to m", "/Observation?code=8302-2&value-quantity=" + url.QueryEscape("gt1.8|http://unitsofmeasure.org|m"),
				data.where("Observation", taller(180))},
			{"reference", "/Condition?subject=" + someID, data.where("Condition", func(r map[string]any) bool { return ref(r, "subject") == someID })},
			{"date period", "/Encounter?date=gt2019-06-01", data.where("Encounter", func(r map[string]any) bool {
				return !instant(t, path(r, "period", "end")).Before(june)
			})},
			{"chain", "/Observation?subject:Patient.family=" + url.QueryEscape(strings.ToLower(family)), data.where("Observation", func(r map[string]any) bool {
				for _, p := range patients {
					if ref(r, "subject") == "Patient/"+p["id"].(string) {
						return strings.HasPrefix(strings.ToLower(path(p, "name", "family").(string)), strings.ToLower(family))
					}
				}
				return false
			})},
			{"reverse chain", "/Patient?_has:Condition:subject:code=444814009", data.where("Patient", func(p map[string]any) bool {
				return len(data.where("Condition", func(r map[string]any) bool {
					return ref(r, "subject") == "Patient/"+p["id"].(string) && hasCoding(r["code"], "http://snomed.info/sct", "444814009")
				})) > 0
			})},
			{"token and date", "/Immunization?vaccine-code=" + url.QueryEscape("http://hl7.org/fhir/sid/cvx|140") + "&date=ge2018",
				data.where("Immunization", func(r map[string]any) bool {
					return hasCoding(r["vaccineCode"], "http://hl7.org/fhir/sid/cvx", "140") && r["occurrenceDateTime"].(string) >= "2018"
				})},
			{"missing", "/Observation?value-quantity:missing=true&subject=" + someID, data.where("Observation", func(r map[string]any) bool {
				return r["valueQuantity"] == nil && ref(r, "subject") == someID
			})},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if len(tc.want) == 0 {
					t.Fatalf("the expected result of %s is empty: a weak test", tc.query)
				}
				got := c.searchAll(t, tc.query+sep(tc.query)+"_count=200")
				if !slices.Equal(got, tc.want) {
					t.Fatalf("%s: %d results, want %d\ngot  %v\nwant %v", tc.query, len(got), len(tc.want), head(got), head(tc.want))
				}
			})
		}

		t.Run("include", func(t *testing.T) {
			b := c.search(t, "GET", "/MedicationRequest?subject="+someID+"&_include=MedicationRequest:requester&_count=500", "")
			var want []string
			for _, r := range data.byType["MedicationRequest"] {
				if ref(r, "subject") == someID && !slices.Contains(want, ref(r, "requester")) {
					want = append(want, ref(r, "requester"))
				}
			}
			got := b.ids("include")
			slices.Sort(got)
			slices.Sort(want)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Fatalf("included %v, want %v", got, want)
			}
		})

		t.Run("sorted page", func(t *testing.T) {
			b := c.search(t, "GET", "/Observation?subject="+someID+"&_sort=-date&_count=5", "")
			var dates []time.Time
			for _, e := range b.Entry {
				var o map[string]any
				_ = json.Unmarshal(e.Resource, &o)
				dates = append(dates, instant(t, o["effectiveDateTime"]))
			}
			latest := time.Time{}
			for _, r := range data.byType["Observation"] {
				if ref(r, "subject") == someID && instant(t, r["effectiveDateTime"]).After(latest) {
					latest = instant(t, r["effectiveDateTime"])
				}
			}
			if len(dates) != 5 || !dates[0].Equal(latest) || !slices.IsSortedFunc(dates, func(a, b time.Time) int { return b.Compare(a) }) {
				t.Fatalf("dates %v, latest %v", dates, latest)
			}
		})
	})
}

func sep(q string) string {
	if strings.Contains(q, "?") {
		return "&"
	}
	return "?"
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
