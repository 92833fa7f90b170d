package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// searcher runs parsed queries against one tenant of a store.
type searcher struct {
	s      store.Store
	reg    *search.Registry
	tenant string
}

// query parses a query string for typ ("" for all types) into a store
// query with a page size of 1000, then lets adjust change it.
func (sr searcher) query(t testing.TB, typ, raw string) store.SearchQuery {
	t.Helper()
	q, err := sr.reg.Parse(typ, raw, search.ParseOptions{Base: searchBase, Now: searchNow, Strict: true})
	if err != nil {
		t.Fatalf("Parse %s?%s: %v", typ, raw, err)
	}
	count := q.Count
	if count < 0 {
		count = 1000
	}
	return store.SearchQuery{Types: q.Types, Where: q.Criteria, Sort: q.Sort, Include: q.Include, Count: count}
}

// run searches and fails the test on error.
func (sr searcher) run(t testing.TB, q store.SearchQuery) store.SearchPage {
	t.Helper()
	page, err := sr.s.Search(context.Background(), sr.tenant, q)
	if err != nil {
		t.Fatalf("Search %+v: %v", q, err)
	}
	return page
}

// ids lists the ids of records, as "Type/id" when typed is set.
func ids(recs []store.Record, typed bool) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
		if typed {
			out[i] = r.Type + "/" + r.ID
		}
	}
	return out
}

// testSearchParameters checks each parameter type and modifier on the
// examples and edge cases: one query, the ids it must find.
func testSearchParameters(t *testing.T, s store.Store, reg *search.Registry) {
	t.Parallel()
	sr := searcher{s: s, reg: reg, tenant: newTenant(t)}
	loadSearchData(t, s, reg, sr.tenant)
	type tc struct {
		typ, query string
		want       []string // sorted unless ordered
		ordered    bool
	}
	var (
		vitals     = []string{"blood-pressure", "bmi", "body-temperature", "example"}
		tDay       = []string{"t-day", "t-frac", "t-sec"}
		birthdated = []string{"acc1", "acc2", "acc3", "animal", "ch-example", "example", "f001", "f201", "glossy",
			"infant-mom", "infant-twin-1", "infant-twin-2", "newborn", "pat3", "pat4", "xds"}
	)
	without := func(all []string, drop ...string) []string {
		var out []string
		for _, x := range all {
			if !slices.Contains(drop, x) {
				out = append(out, x)
			}
		}
		return out
	}
	cases := map[string][]tc{
		"string": {
			{"Patient", "family=chalmers", []string{"example"}, false},
			{"Patient", "family=CHAL", []string{"example"}, false},
			{"Patient", "family=angstrom", []string{"acc1", "acc2"}, false},
			{"Patient", "family=%C3%85ngstr%C3%B6m", []string{"acc1", "acc2"}, false},
			{"Patient", "family:exact=%C3%85ngstr%C3%B6m", []string{"acc1"}, false},
			{"Patient", "family:exact=%C3%A5ngstr%C3%B6m", nil, false},
			{"Patient", "family:contains=KESS", []string{"acc3"}, false},
			{"Patient", "family:contains=100%25", nil, false},
			{"Patient", "given=zoe", []string{"acc1"}, false},
			{"Patient", "given=%E6%9D%8E", []string{"acc3"}, false},
			{"Patient", "name=jim", []string{"example"}, false},
			{"Patient", "name=roel", []string{"f201"}, false},
			{"Patient", "family=van%20de", []string{"f001"}, false},
			{"Patient", "address-city=amsterdam", []string{"f001", "f201"}, false},
			{"Patient", "address=AMSTER", []string{"f001", "f201"}, false},
			{"Patient", "family=donald,notsowell", []string{"pat1", "pat2", "pat3", "pat4"}, false},
			{"Patient", "family=donald&given:exact=D", []string{"pat2"}, false},
			{"Patient", "name:missing=true", []string{"newborn"}, false},
			{"Practitioner", "name=dr", []string{"example"}, false},
		},
		"token": {
			{"Patient", "gender=female", []string{"animal", "infant-mom", "infant-twin-1", "pat4"}, false},
			{"Patient", "gender:not=male", []string{"acc1", "acc2", "acc3", "animal", "infant-mom", "infant-twin-1", "pat2", "pat4"}, false},
			{"Patient", "identifier=12345", []string{"example"}, false},
			{"Patient", "identifier=urn:oid:1.2.36.146.595.217.0.1%7C12345", []string{"example"}, false},
			{"Patient", "identifier=urn:oid:1.2.36.146.595.217.0.1%7C", []string{"ch-example", "example"}, false},
			{"Patient", "identifier=%7C12345", nil, false},
			{"Patient", "identifier:text=bsn", []string{"f201"}, false},
			{"Patient", "deceased=true", []string{"pat3", "pat4"}, false},
			{"Patient", "telecom=phone%7C(03)%205555%206473", []string{"example"}, false},
			{"Practitioner", "phone=0205568263", []string{"f001"}, false},
			{"Patient", "phone=%2B31612345678", []string{"f201"}, false},
			{"Observation", "code=http://loinc.org%7C29463-7", []string{"example"}, false},
			{"Observation", "code=29463-7,8310-5", []string{"body-temperature", "example"}, false},
			{"Observation", "code:text=body", []string{"bmi", "body-temperature", "example"}, false},
			{"Observation", "code=29463-7&code=27113001", []string{"example"}, false},
			{"Condition", "identifier=12345", []string{"f201"}, false},
			{"Patient", "_tag=urn:t%7Cvip", []string{"acc1"}, false},
			{"Patient", "_security=R", []string{"acc1"}, false},
			{"Patient", "_id=example,pat1,nonexistent", []string{"example", "pat1"}, false},
			{"Patient", "_id:not=example&family=chalmers", nil, false},
			{"Patient", "gender:missing=true", []string{"acc1", "acc2", "acc3"}, false},
		},
		"reference": {
			{"Observation", "subject=Patient/example", vitals, false},
			{"Observation", "subject=example", vitals, false},
			{"Observation", "patient=f001", []string{"ekg", "f001"}, false},
			{"Observation", "subject:Patient=f001", []string{"ekg", "f001"}, false},
			{"Observation", "subject=" + searchBase + "/Patient/f001", []string{"ekg", "f001"}, false},
			{"Observation", "subject=http://other.test/fhir/Patient/f001", nil, false},
			{"Patient", "organization=Organization/1", []string{"ch-example", "example", "pat1", "pat2", "pat3", "pat4"}, false},
			{"Patient", "general-practitioner:missing=false", []string{"glossy", "infant-mom"}, false},
			{"Observation", "subject:Patient.family=chalmers", vitals, false},
			{"Observation", "subject.family=van", []string{"ekg", "f001"}, false},
			{"Observation", "subject:Patient.organization.name=gastro", vitals, false},
			{"Observation", "subject:Patient.organization.name=nothing", nil, false},
			{"Patient", "_has:Observation:subject:code=15074-8", []string{"f001"}, false},
			{"Patient", "_has:Observation:patient:code=29463-7", []string{"example"}, false},
			{"Organization", "_has:Patient:organization:_has:Observation:subject:code=8310-5", []string{"1"}, false},
			{"Communication", "subject=Patient/example&encounter=Encounter/example", []string{"example"}, false},
		},
		"date": {
			{"Patient", "birthdate=1974-12-25", []string{"ch-example", "example"}, false},
			{"Patient", "birthdate=1974", []string{"ch-example", "example"}, false},
			{"Patient", "birthdate=1990", []string{"acc1", "acc2", "acc3"}, false},
			{"Patient", "birthdate=1990-06", []string{"acc2", "acc3"}, false},
			{"Patient", "birthdate=ge1990-06", []string{"acc1", "acc2", "acc3", "animal", "infant-mom", "infant-twin-1", "infant-twin-2", "newborn"}, false},
			{"Patient", "birthdate=lt1944-12", []string{"f001", "glossy"}, false},
			{"Patient", "birthdate=sa2010", []string{"infant-twin-1", "infant-twin-2", "newborn"}, false},
			{"Patient", "birthdate=eb1940", []string{"glossy"}, false},
			{"Patient", "birthdate=ne1974-12-25", without(birthdated, "ch-example", "example"), false},
			{"Patient", "birthdate=1974-12-25&birthdate=1974", []string{"ch-example", "example"}, false},
			{"Patient", "birthdate:missing=true", []string{"pat1", "pat2"}, false},
			{"Observation", "date=2020-01-01", tDay, false},
			{"Observation", "date=2020-01-02", []string{"t-min"}, false},
			{"Observation", "date=2020-01-01T23:30:00-05:00", []string{"t-min"}, false},
			{"Observation", "date=2020-01-02T04:30:00Z", []string{"t-min"}, false},
			{"Observation", "date=2020-01-01T12:00", []string{"t-sec"}, false},
			{"Observation", "date=2020-01-01T12:00%2B01:00", []string{"t-frac"}, false},
			{"Observation", "date=2020-01-01T11:00:00.123Z", []string{"t-frac"}, false},
			{"Observation", "date=2020-01", []string{"t-day", "t-frac", "t-min", "t-sec"}, false},
			// f001's period has no end: it reaches every later date.
			{"Observation", "date=ap2020-01-01", []string{"f001", "t-day", "t-frac", "t-min", "t-period", "t-sec", "t-year"}, false},
			{"Observation", "date=gt2020-12-31", []string{"f001", "t-open"}, false},
			{"Observation", "date=sa2020", []string{"t-open"}, false},
			{"Observation", "date=eb2013&code:missing=false", []string{"blood-pressure", "bmi", "body-temperature"}, false},
			{"Observation", "date=le2020-01-01&code=urn:test%7Cedge", []string{"t-day", "t-frac", "t-period", "t-sec"}, false},
		},
		"number": {
			{"RiskAssessment", "probability=0.02", []string{"ra1"}, false},
			{"RiskAssessment", "probability=gt0.1", []string{"ra2", "ra3"}, false},
			{"RiskAssessment", "probability=0.3", []string{"ra2"}, false},
			{"RiskAssessment", "probability=ne0.25", []string{"ra1", "ra3"}, false},
			{"RiskAssessment", "probability=ap1", []string{"ra3"}, false},
			{"RiskAssessment", "probability=1e0", []string{"ra3"}, false},
			{"RiskAssessment", "probability=le0.02", []string{"ra1"}, false},
		},
		"quantity": {
			{"Observation", "value-quantity=185", []string{"example"}, false},
			{"Observation", "value-quantity=185%7Chttp://unitsofmeasure.org%7C[lb_av]", []string{"example"}, false},
			{"Observation", "value-quantity=83.9%7Chttp://unitsofmeasure.org%7Ckg", []string{"example"}, false},
			{"Observation", "value-quantity=1%7Chttp://unitsofmeasure.org%7Cg", []string{"q-g", "q-kg", "q-mg"}, false},
			{"Observation", "value-quantity=1000%7Chttp://unitsofmeasure.org%7Cmg", []string{"q-g", "q-kg", "q-mg"}, false},
			{"Observation", "value-quantity=gt5.5%7Chttp://unitsofmeasure.org%7Cmmol/L", []string{"f001"}, false},
			{"Observation", "value-quantity=6.3%7C%7Cmmol/l", []string{"f001"}, false},
			{"Observation", "value-quantity=37%7Chttp://unitsofmeasure.org%7CCel", []string{"body-temperature", "q-cel"}, false},
			{"Observation", "value-quantity=7%7C%7Ctablets", []string{"q-unit"}, false},
			{"Observation", "value-quantity=5", []string{"q-nounit"}, false},
			{"Observation", "value-quantity=1%7Chttp://unitsofmeasure.org%7Cg&value-quantity=lt1.5", []string{"q-g", "q-kg"}, false},
			{"Observation", "component-value-quantity=1e-22", []string{"decimal"}, false},
			{"Encounter", "length=140", []string{"f001"}, false},
		},
		"uri": {
			{"Questionnaire", "url=http://hl7.org/fhir/Questionnaire/f201", []string{"f201"}, false},
			{"Questionnaire", "url=http://hl7.org/fhir/Questionnaire", nil, false},
			{"Questionnaire", "url:below=http://hl7.org/fhir/", []string{"f201"}, false},
			{"Questionnaire", "url:above=http://hl7.org/fhir/Questionnaire/f201/extra", []string{"f201"}, false},
			{"Communication", "instantiates-uri=http://example.org/hyperkalemia", []string{"example"}, false},
			{"Observation", "_profile=http://hl7.org/fhir/StructureDefinition/vitalsigns", []string{"blood-pressure", "bmi", "body-temperature"}, false},
		},
		"sort": {
			{"Patient", "family=notsowell,donald&_sort=given", []string{"pat2", "pat1", "pat4", "pat3"}, true},
			{"Patient", "family=notsowell,donald&_sort=-given", []string{"pat3", "pat4", "pat1", "pat2"}, true},
			{"Patient", "birthdate=lt1960&_sort=birthdate", []string{"glossy", "f001", "xds"}, true},
			{"Patient", "family=notsowell,donald&_sort=family,-birthdate", []string{"pat1", "pat2", "pat4", "pat3"}, true},
			{"Patient", "family=notsowell,donald&_sort=-_id", []string{"pat4", "pat3", "pat2", "pat1"}, true},
			{"RiskAssessment", "_sort=-probability", []string{"ra3", "ra2", "ra1"}, true},
			{"Observation", "code=urn:test%7Cedge&value-quantity:missing=false&_sort=value-quantity", []string{"q-kg", "q-g", "q-lb", "q-nounit", "q-unit", "q-cel", "q-mg"}, true},
		},
	}
	for group, list := range cases {
		t.Run(group, func(t *testing.T) {
			for _, c := range list {
				t.Run(c.typ+"?"+c.query, func(t *testing.T) {
					got := ids(sr.run(t, sr.query(t, c.typ, c.query)).Records, false)
					if !c.ordered {
						slices.Sort(got)
					}
					if !slices.Equal(got, c.want) {
						t.Errorf("got %v, want %v", got, c.want)
					}
				})
			}
		})
	}
}

// testSearchRefused checks that values and modifiers Hearth cannot honour
// are refused, naming the parameter, rather than ignored.
func testSearchRefused(t *testing.T, reg *search.Registry) {
	t.Parallel()
	for _, c := range []struct{ typ, query, expr string }{
		{"Patient", "birthdate=yesterday", "birthdate"},
		{"Patient", "gender:exact=male", "gender:exact"},
		{"Patient", "family:below=x", "family:below"},
		{"Observation", "code:in=http://x", "code:in"},
		{"Observation", "code-value-quantity=x", "code-value-quantity"},
		{"Location", "near=1|2", "near"},
		{"RiskAssessment", "probability=sa1", "probability"},
		{"Patient", "organization:Patient=1", "organization:Patient"},
		{"Patient", "gender.name=x", "gender.name"},
		{"Patient", "nonsense=1", "nonsense"},
		{"Observation", "subject.organization.partof.name=x", "subject.organization.partof.name"},
		{"Patient", "_count=-1", "_count"},
		{"Patient", "_include=Patient:gender", "_include"},
		{"Patient", "identifier=%7C", "identifier"},
	} {
		t.Run(c.typ+"?"+c.query, func(t *testing.T) {
			_, err := reg.Parse(c.typ, c.query, search.ParseOptions{Base: searchBase, Now: searchNow, Strict: true})
			var fe *fhir.Error
			if !asError(err, &fe) || fe.Kind != fhir.KindInvalid || !strings.HasPrefix(fe.Expression, c.expr) {
				t.Errorf("Parse = %v, want an invalid error at %s", err, c.expr)
			}
		})
	}
}
