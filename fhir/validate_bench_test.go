package fhir

import (
	"os"
	"testing"
)

// BenchmarkValidate measures the strict R4 validation every write pays, on
// an official Communication example and a Patient, with the fast path
// (Validate; the Patient's "_family" sends it on to google/fhir) and
// google/fhir alone (slow).
func BenchmarkValidate(b *testing.B) {
	v, err := NewValidator()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"Communication-example.json", "Patient-example.json"} {
		body, err := os.ReadFile("testdata/examples/" + name)
		if err != nil {
			b.Fatal(err)
		}
		for _, path := range []struct {
			name     string
			validate func([]byte) error
		}{{"", v.Validate}, {"slow-", v.slowValidate}} {
			b.Run(path.name+name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if err := path.validate(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
