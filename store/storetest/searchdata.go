package storetest

import (
	"context"
	"embed"
	"encoding/json"
	"path"
	"sort"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// searchBase is the FHIR base URL the search tests index and query with.
const searchBase = "http://hearth.test/fhir"

// searchNow is the clock reading the search tests parse with (ap on dates
// measures from it).
var searchNow = time.Date(2020, 1, 11, 0, 0, 0, 0, time.UTC)

// examples are official R4 examples (CC0), copied unmodified from the
// specification's examples package.
//
//go:embed testdata/search/*.json
var examples embed.FS

// edgeCases are generated resources for what the examples lack: accents
// and scripts in names, dates at every precision and in several time
// zones, quantities in different units, numbers.
var edgeCases = []string{
	`{"resourceType":"Patient","id":"acc1","meta":{"tag":[{"system":"urn:t","code":"vip"}],
	  "profile":["http://example.org/P"],"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
	  "name":[{"family":"Ångström","given":["Zoë"]}],"birthDate":"1990"}`,
	`{"resourceType":"Patient","id":"acc2","name":[{"family":"ANGSTROM","given":["Élodie"]}],"birthDate":"1990-06"}`,
	`{"resourceType":"Patient","id":"acc3","name":[{"family":"Åkesson","given":["李小龍"]}],"birthDate":"1990-06-15"}`,
	obsAt("t-year", `"effectiveDateTime":"2020"`),
	obsAt("t-month", `"effectiveDateTime":"2020-02"`),
	obsAt("t-day", `"effectiveDateTime":"2020-01-01"`),
	obsAt("t-min", `"effectiveDateTime":"2020-01-01T23:30:00-05:00"`),
	obsAt("t-sec", `"effectiveDateTime":"2020-01-01T12:00:00Z"`),
	obsAt("t-frac", `"effectiveDateTime":"2020-01-01T12:00:00.123+01:00"`),
	obsAt("t-period", `"effectivePeriod":{"start":"2019-12-31","end":"2020-01-02"}`),
	obsAt("t-open", `"effectivePeriod":{"start":"2021-01-01"}`),
	obsAt("q-mg", quantity(1000, "mg")),
	obsAt("q-g", quantity(1, "g")),
	obsAt("q-kg", quantity(0.001, "kg")),
	obsAt("q-lb", quantity(2.2, "[lb_av]")),
	obsAt("q-cel", quantity(37, "Cel")),
	obsAt("q-nounit", `"valueQuantity":{"value":5}`),
	obsAt("q-unit", `"valueQuantity":{"value":7,"unit":"tablets"}`),
	`{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/example"},"prediction":[{"probabilityDecimal":0.02}]}`,
	`{"resourceType":"RiskAssessment","id":"ra2","status":"final","subject":{"reference":"Patient/example"},"prediction":[{"probabilityDecimal":0.25}]}`,
	`{"resourceType":"RiskAssessment","id":"ra3","status":"final","subject":{"reference":"Patient/f001"},"prediction":[{"probabilityDecimal":1}]}`,
}

func obsAt(id, rest string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final",` +
		`"code":{"coding":[{"system":"urn:test","code":"edge"}]},"subject":{"reference":"Patient/acc1"},` + rest + `}`
}

func quantity(v float64, ucum string) string {
	b, _ := json.Marshal(map[string]any{"value": v, "unit": ucum, "system": search.UCUM, "code": ucum})
	return `"valueQuantity":` + string(b)
}

// searchResource is a resource of the search data set.
type searchResource struct {
	typ, id string
	body    []byte
}

// searchData returns the examples and edge cases, sorted by type and id.
func searchData(t testing.TB) []searchResource {
	t.Helper()
	var out []searchResource
	add := func(body []byte) {
		var head struct{ ResourceType, ID string }
		if err := json.Unmarshal(body, &head); err != nil {
			t.Fatalf("search data: %v", err)
		}
		out = append(out, searchResource{head.ResourceType, head.ID, body})
	}
	files, err := examples.ReadDir("testdata/search")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := examples.ReadFile(path.Join("testdata/search", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		add(body)
	}
	for _, e := range edgeCases {
		add([]byte(e))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].typ < out[j].typ || out[i].typ == out[j].typ && out[i].id < out[j].id
	})
	return out
}

// loadSearchData writes the search data set into tenant, indexed by reg,
// in one transaction, and returns it.
func loadSearchData(t testing.TB, s store.Store, reg *search.Registry, tenant string) []searchResource {
	t.Helper()
	data := searchData(t)
	ctx := context.Background()
	err := s.Tx(ctx, tenant, func(tx store.Tx) error {
		for _, r := range data {
			ix, err := reg.Index(r.typ, r.body, searchBase)
			if err != nil {
				return err
			}
			if err := tx.Put(ctx, store.Write{Record: rec(r.typ, r.id, 1, at(0), string(r.body)), Index: ix}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("load search data: %v", err)
	}
	return data
}
