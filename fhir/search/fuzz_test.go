package search

import (
	"errors"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// FuzzParse feeds arbitrary query strings to the parser: it must never
// panic, and every error must be a client error naming what is wrong.
func FuzzParse(f *testing.F) {
	reg, err := NewRegistry()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		"family=smith&given:exact=Peter", "birthdate=ge2020-01-01T10:00:00%2B01:00", "code=http://loinc.org|1234-5,x\\,y",
		"subject:Patient.organization.name=acme", "_has:Observation:subject:_has:AuditEvent:entity:type=x",
		"value-quantity=lt5.4|http://unitsofmeasure.org|mg/dL", "_sort=-date,_id&_count=10&_include=Observation:subject:Patient",
		"_include:iterate=*&_revinclude=Provenance:target&_summary=true&_elements=id,code", "url:above=http://a/b/c",
		"probability=ap1e-3", "identifier=|", "_id=a,b,c&_lastUpdated=gt2020", "%zz=1", "a=%", "=&&=", "gender:missing=true",
	} {
		f.Add("Observation", seed)
		f.Add("Patient", seed)
		f.Add("", seed+"&_type=Patient,Observation")
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, typ, query string) {
		for _, strict := range []bool{false, true} {
			q, err := reg.Parse(typ, query, ParseOptions{Base: "http://h/fhir", Now: now, Strict: strict})
			if err != nil {
				var fe *fhir.Error
				if !errors.As(err, &fe) || (fe.Kind != fhir.KindInvalid && fe.Kind != fhir.KindNotFound) {
					t.Fatalf("Parse(%q, %q) error %v is not a client error", typ, query, err)
				}
				continue
			}
			for _, c := range q.Criteria {
				checkCriterion(t, query, &c)
			}
		}
	})
}

// checkCriterion checks what stores rely on: a parameter (or _has), and
// values of the parameter's type unless :missing.
func checkCriterion(t *testing.T, query string, c *Criterion) {
	t.Helper()
	if c.Has != nil {
		if c.Has.Ref == nil {
			t.Fatalf("%q: _has without a reference parameter", query)
		}
		checkCriterion(t, query, &c.Has.Where)
		return
	}
	if c.Param == nil {
		t.Fatalf("%q: criterion without a parameter", query)
	}
	if c.Chain != nil {
		checkCriterion(t, query, &c.Chain.Where)
		return
	}
	if c.Modifier != ModMissing && len(c.Values) == 0 {
		t.Fatalf("%q: criterion %s without values", query, c.Param.Code)
	}
}
