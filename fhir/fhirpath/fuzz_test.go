package fhirpath

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
)

// FuzzParse checks that no input makes Parse or Eval panic, that their
// errors are *fhir.Error of kind invalid, and that a parsed expression
// evaluates on a real resource. Seeds are the official suite's
// expressions and the R4 search parameters'; crashers found are kept in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range seedExpressions(f) {
		f.Add(s)
	}
	data, err := os.ReadFile("testdata/suite/patient-example.json")
	if err != nil {
		f.Fatal(err)
	}
	patient, err := Decode(data)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			checkInvalid(t, s, err)
			return
		}
		if e.String() != s {
			t.Fatalf("String() = %q, want %q", e.String(), s)
		}
		if _, err := e.Eval(patient); err != nil {
			checkInvalid(t, s, err)
		}
	})
}

func checkInvalid(t *testing.T, s string, err error) {
	t.Helper()
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Kind != fhir.KindInvalid {
		t.Fatalf("%q: error %v is not a *fhir.Error of kind invalid", s, err)
	}
}

// seedExpressions returns the suite's expressions and a sample of the
// search parameters'.
func seedExpressions(tb testing.TB) []string {
	tb.Helper()
	var seeds []string
	data, err := os.ReadFile("testdata/suite/tests-fhir-r4.xml")
	if err != nil {
		tb.Fatal(err)
	}
	var suite suiteFile
	if err := xml.Unmarshal(data, &suite); err != nil {
		tb.Fatal(err)
	}
	for _, g := range suite.Groups {
		for _, tc := range g.Tests {
			seeds = append(seeds, tc.Expr.Text)
		}
	}
	data, err = os.ReadFile("testdata/search-parameters.json")
	if err != nil {
		tb.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				Expression string `json:"expression"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &bundle); err != nil {
		tb.Fatal(err)
	}
	for i, e := range bundle.Entry {
		if e.Resource.Expression != "" && i%10 == 0 {
			seeds = append(seeds, e.Resource.Expression)
		}
	}
	return seeds
}
