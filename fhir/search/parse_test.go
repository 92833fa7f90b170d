package search

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func newTestRegistry(t *testing.T) *Registry {
	t.Helper()
	r, err := NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParse(t *testing.T) {
	reg := newTestRegistry(t)
	opt := ParseOptions{Base: "http://h/fhir", Now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	parse := func(typ, q string) *Query {
		t.Helper()
		got, err := reg.Parse(typ, q, opt)
		if err != nil {
			t.Fatalf("Parse(%s, %q): %v", typ, q, err)
		}
		return got
	}
	t.Run("escapes", func(t *testing.T) {
		q := parse("Observation", `code=a\,b,c%7Cd\%7Ce`)
		want := []Value{TokenValue{Code: "a,b"}, TokenValue{System: "c", HasSystem: true, Code: "d|e"}}
		if !reflect.DeepEqual(q.Criteria[0].Values, want) {
			t.Errorf("values %+v, want %+v", q.Criteria[0].Values, want)
		}
	})
	t.Run("and or", func(t *testing.T) {
		q := parse("Patient", "given=a,b&given=c")
		if len(q.Criteria) != 2 || len(q.Criteria[0].Values) != 2 || len(q.Criteria[1].Values) != 1 {
			t.Errorf("criteria %+v", q.Criteria)
		}
	})
	t.Run("chain without type", func(t *testing.T) {
		q := parse("Observation", "subject.name=x")
		ch := q.Criteria[0].Chain
		// Of subject's targets (Group, Device, Location, Patient) only
		// Patient and Location have name… Location's is a string too.
		if ch == nil || !slices.Contains(ch.Types, "Patient") || slices.Contains(ch.Types, "Device") {
			t.Errorf("chain %+v", ch)
		}
	})
	t.Run("has", func(t *testing.T) {
		q := parse("Patient", "_has:Observation:patient:_has:AuditEvent:entity:agent=x")
		h := q.Criteria[0].Has
		if h == nil || h.Type != "Observation" || h.Ref.Code != "patient" || h.Where.Has == nil || h.Where.Has.Type != "AuditEvent" {
			t.Errorf("_has %+v", h)
		}
	})
	t.Run("reference forms", func(t *testing.T) {
		q := parse("Observation", "subject=Patient/1,http://h/fhir/Patient/2/_history/3,http://x/Patient/4,5&subject:Group=6")
		want := []Value{
			ReferenceValue{Types: []string{"Patient"}, ID: "1"},
			ReferenceValue{Types: []string{"Patient"}, ID: "2"},
			ReferenceValue{URL: "http://x/Patient/4"},
			ReferenceValue{Types: reg.Lookup("Observation", "subject").Targets, ID: "5"},
		}
		if !reflect.DeepEqual(q.Criteria[0].Values, want) {
			t.Errorf("values %+v", q.Criteria[0].Values)
		}
		if v := q.Criteria[1].Values[0].(ReferenceValue); !slices.Equal(v.Types, []string{"Group"}) || v.ID != "6" {
			t.Errorf(":Group value %+v", v)
		}
	})
	t.Run("result parameters", func(t *testing.T) {
		q := parse("Observation", "_sort=-date,code&_count=7&_total=accurate&_summary=data&_elements=code,status"+
			"&_include=Observation:subject:Patient&_revinclude:iterate=Provenance:target&_include=*")
		if len(q.Sort) != 2 || !q.Sort[0].Desc || q.Sort[1].Param.Code != "code" || q.Count != 7 ||
			q.Total != TotalAccurate || q.Summary != SummaryData || !slices.Equal(q.Elements, []string{"code", "status"}) {
			t.Errorf("query %+v", q)
		}
		if len(q.Include) != 3 || q.Include[0].TargetType != "Patient" || !q.Include[1].Reverse || !q.Include[1].Iterate ||
			q.Include[2].Param != nil {
			t.Errorf("includes %+v", q.Include)
		}
	})
	t.Run("lenient", func(t *testing.T) {
		q := parse("Patient", "foo=1&family=&_contained=true&gender=male")
		if len(q.Criteria) != 1 || len(q.Ignored) != 3 {
			t.Errorf("criteria %d, ignored %+v", len(q.Criteria), q.Ignored)
		}
	})
	t.Run("system level", func(t *testing.T) {
		q := parse("", "_type=Patient,Observation&_lastUpdated=gt2020&_tag=x")
		if !slices.Equal(q.Types, []string{"Patient", "Observation"}) || len(q.Criteria) != 2 {
			t.Errorf("query %+v", q)
		}
		if _, err := reg.Parse("", "_type=Patient,Observation&family=x", ParseOptions{Strict: true}); err == nil {
			t.Error("family accepted across Patient and Observation")
		}
	})
}

func TestSubset(t *testing.T) {
	reg := newTestRegistry(t)
	body := []byte(`{"resourceType":"Patient","id":"p","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div/>"},` +
		`"name":[{"family":"X"}],"gender":"male","_gender":{"id":"g"},"photo":[{"data":"AAAA"}],"deceasedBoolean":false}`)
	for _, tc := range []struct {
		summary  Summary
		elements []string
		want     string
	}{
		{SummaryTrue, nil, `{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]},"name":[{"family":"X"}],"gender":"male","_gender":{"id":"g"},"deceasedBoolean":false}`},
		{SummaryText, nil, `{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]},"text":{"status":"generated","div":"<div/>"}}`},
		{SummaryData, nil, `{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]},"name":[{"family":"X"}],"gender":"male","_gender":{"id":"g"},"photo":[{"data":"AAAA"}],"deceasedBoolean":false}`},
		{SummaryNone, []string{"photo"}, `{"resourceType":"Patient","id":"p","meta":{"versionId":"1","tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]},"photo":[{"data":"AAAA"}]}`},
		{SummaryFalse, []string{"photo"}, string(body)},
		{SummaryNone, nil, string(body)},
	} {
		got, err := reg.Subset("Patient", body, tc.summary, tc.elements)
		if err != nil || string(got) != tc.want {
			t.Errorf("Subset(%q, %v) = %s, %v\nwant %s", tc.summary, tc.elements, got, err, tc.want)
		}
	}
}
