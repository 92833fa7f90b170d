package search

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkIndex extracts the search index rows of official examples,
// as every create and update does after validation: the body decoded
// once, every parameter of the type evaluated on it, the rows deduplicated.
func BenchmarkIndex(b *testing.B) {
	reg, err := NewRegistry()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"Communication-example", "Patient-example", "QuestionnaireResponse-f201"} {
		pretty, err := os.ReadFile("../testdata/examples/" + name + ".json")
		if err != nil {
			b.Fatal(err)
		}
		// Stored bodies are compact.
		var body bytes.Buffer
		if err := json.Compact(&body, pretty); err != nil {
			b.Fatal(err)
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(body.Bytes(), &head); err != nil {
			b.Fatal(err)
		}
		ix, err := reg.Index(head.ResourceType, body.Bytes(), "https://fhir.example.org/fhir")
		if err != nil || ix.Len() == 0 {
			b.Fatalf("%s: %d rows, %v", name, ix.Len(), err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(body.Len()))
			for b.Loop() {
				if _, err := reg.Index(head.ResourceType, body.Bytes(), "https://fhir.example.org/fhir"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
