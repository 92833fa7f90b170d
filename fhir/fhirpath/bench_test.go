package fhirpath

import (
	"encoding/json"
	"os"
	"testing"
)

// communication is the official Communication example (trimmed narrative).
const communication = `{"resourceType":"Communication","id":"example",
	"identifier":[{"type":{"text":"Paging System"},"system":"urn:oid:1.3.4.5.6.7","value":"2345678901"}],
	"instantiatesUri":["http://example.org/hyperkalemia"],
	"partOf":[{"display":"Serum Potassium Observation"}],
	"status":"completed",
	"category":[{"coding":[{"system":"http://acme.org/messagetypes","code":"Alert"}],"text":"Alert"}],
	"medium":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationMode","code":"WRITTEN","display":"written"}],"text":"written"}],
	"subject":{"reference":"Patient/example"},
	"encounter":{"reference":"Encounter/example"},
	"sent":"2014-12-12T18:01:10-08:00",
	"received":"2014-12-12T18:01:11-08:00",
	"recipient":[{"reference":"Practitioner/example"}],
	"sender":{"reference":"Device/f001"},
	"payload":[{"contentString":"Patient 1 has a very high serum potassium value (7.2 mmol/L on 2014-Dec-12 at 5:55 pm)"},
		{"contentReference":{"display":"Serum Potassium Observation"}}]}`

// BenchmarkEval evaluates search-parameter expressions on official
// examples, the way the search index does for every write.
func BenchmarkEval(b *testing.B) {
	data, err := os.ReadFile("testdata/suite/observation-example.json")
	if err != nil {
		b.Fatal(err)
	}
	obs, err := Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	comm := decode(b, communication)
	cases := []struct {
		name, expr string
		node       any
	}{
		{"Communication.recipient", "Communication.recipient", comm},
		{"Observation.value.as(Quantity)", "Observation.value.as(Quantity)", obs},
		{"Observation-value-quantity", "(Observation.value as Quantity) | (Observation.value as SampledData)", obs},
		{"Observation.subject.where(resolve() is Patient)", "Observation.subject.where(resolve() is Patient)", obs},
		{"Observation.code.coding.where(system='http://loinc.org').code", "Observation.code.coding.where(system='http://loinc.org').code", obs},
		{"clinical-patient", searchExpression(b, "clinical-patient"), obs},
	}
	for _, bc := range cases {
		e := MustParse(bc.expr)
		if items, err := e.Eval(bc.node); err != nil || len(items) == 0 {
			b.Fatalf("%s: %v %v", bc.name, items, err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Eval(bc.node); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("parallel/Communication.recipient", func(b *testing.B) {
		e := MustParse("Communication.recipient")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.Eval(comm); err != nil {
					b.Error(err)
				}
			}
		})
	})
}

func BenchmarkParse(b *testing.B) {
	expr := searchExpression(b, "clinical-patient")
	b.ReportAllocs()
	b.SetBytes(int64(len(expr)))
	for b.Loop() {
		if _, err := Parse(expr); err != nil {
			b.Fatal(err)
		}
	}
}

// searchExpression returns the expression of the R4 SearchParameter id.
func searchExpression(tb testing.TB, id string) string {
	tb.Helper()
	data, err := os.ReadFile("testdata/search-parameters.json")
	if err != nil {
		tb.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				ID         string `json:"id"`
				Expression string `json:"expression"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		tb.Fatal(err)
	}
	for _, e := range bundle.Entry {
		if e.Resource.ID == id {
			return e.Resource.Expression
		}
	}
	tb.Fatalf("no SearchParameter %s", id)
	return ""
}
