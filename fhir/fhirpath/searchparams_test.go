package fhirpath

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// TestSearchParameterExpressionsParse parses the expression of every R4
// SearchParameter (testdata/search-parameters.json, the spec's bundle).
func TestSearchParameterExpressionsParse(t *testing.T) {
	data, err := os.ReadFile("testdata/search-parameters.json")
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	parsed := 0
	for _, e := range bundle.Entry {
		sp := e.Resource
		if sp.Expression == "" {
			continue // _text, _content and the like are not FHIRPath
		}
		if _, err := Parse(sp.Expression); err != nil {
			t.Errorf("SearchParameter %s: %v", sp.ID, err)
			continue
		}
		parsed++
	}
	t.Logf("parsed %d of %d SearchParameter expressions", parsed, len(bundle.Entry))
	if parsed < 1372 {
		t.Errorf("parsed %d expressions, want every one of the 1372 in R4", parsed)
	}
}

// decode is the test helper for inline resources.
func decode(tb testing.TB, s string) any {
	tb.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// typed is an expected result item written compactly: "Type value" pairs.
type typed struct {
	Type  string
	Value any
}

func resultOf(items []Item) []typed {
	out := make([]typed, len(items))
	for i, it := range items {
		out[i] = typed{it.Type, it.Value}
	}
	return out
}

// TestSearchParameterIdioms covers the forms R4 search parameters use.
func TestSearchParameterIdioms(t *testing.T) {
	const obs = `{"resourceType":"Observation","id":"o1",
		"subject":{"reference":"Patient/p1"},
		"performer":[{"reference":"http://example.org/fhir/Practitioner/d1/_history/3"},{"reference":"#org"},{"type":"Patient","identifier":{"value":"x"}}],
		"contained":[{"resourceType":"Organization","id":"org"}],
		"effectivePeriod":{"start":"2020-01-01","end":"2020-01-02"},
		"valueQuantity":{"value":72.50,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"},
		"component":[
			{"code":{"text":"sys"},"valueQuantity":{"value":120,"code":"mm[Hg]"}},
			{"code":{"text":"dia"},"valueQuantity":{"value":80,"code":"mm[Hg]"}},
			{"code":{"text":"note"},"valueString":"sitting"}]}`
	const group = `{"resourceType":"Observation","subject":{"reference":"Group/g1"},"valueCodeableConcept":{"text":"positive"}}`
	quantity := func(v, code string) map[string]any {
		return map[string]any{"value": json.Number(v), "code": code}
	}
	tests := []struct {
		name, expr, resource string
		want                 []typed
	}{
		{"plain path", "Communication.recipient",
			`{"resourceType":"Communication","recipient":[{"reference":"Practitioner/1"},{"reference":"Patient/2"}]}`,
			[]typed{{"Reference", map[string]any{"reference": "Practitioner/1"}}, {"Reference", map[string]any{"reference": "Patient/2"}}}},
		{"other resource types in a shared expression", "Patient.name.family | Practitioner.name.family",
			`{"resourceType":"Practitioner","name":[{"family":"Osler"}]}`,
			[]typed{{"string", "Osler"}}},
		{"resolve() is Patient", "Observation.subject.where(resolve() is Patient)", obs,
			[]typed{{"Reference", map[string]any{"reference": "Patient/p1"}}}},
		{"resolve() is Patient on a Group", "Observation.subject.where(resolve() is Patient)", group, nil},
		{"resolve() types absolute, contained and typed references", "Observation.performer.resolve().type().name", obs,
			[]typed{{"System.String", "Practitioner"}, {"System.String", "Organization"}, {"System.String", "Patient"}}},
		{"choice element", "Observation.value", obs,
			[]typed{{"Quantity", map[string]any{"value": json.Number("72.50"), "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}}}},
		{"as operator", "(Observation.value as Quantity).value", obs, []typed{{"decimal", json.Number("72.50")}}},
		{"as function", "Observation.value.as(Quantity).code", obs, []typed{{"code", "kg"}}},
		{"ofType", "Observation.value.ofType(CodeableConcept).text", group, []typed{{"string", "positive"}}},
		{"as on another type", "(Observation.value as Quantity)", group, nil},
		{"as on a collection filters", "(Observation.component.value as Quantity)", obs,
			[]typed{{"Quantity", quantity("120", "mm[Hg]")}, {"Quantity", quantity("80", "mm[Hg]")}}},
		{"choice of Period", "Observation.effective", obs,
			[]typed{{"Period", map[string]any{"start": "2020-01-01", "end": "2020-01-02"}}}},
		{"deceased true", "Patient.deceased.exists() and Patient.deceased != false",
			`{"resourceType":"Patient","deceasedBoolean":true}`, []typed{{"System.Boolean", true}}},
		{"deceased date", "Patient.deceased.exists() and Patient.deceased != false",
			`{"resourceType":"Patient","deceasedDateTime":"2020-02-02"}`, []typed{{"System.Boolean", true}}},
		{"deceased false", "Patient.deceased.exists() and Patient.deceased != false",
			`{"resourceType":"Patient","deceasedBoolean":false}`, []typed{{"System.Boolean", false}}},
		{"deceased absent", "Patient.deceased.exists() and Patient.deceased != false",
			`{"resourceType":"Patient"}`, []typed{{"System.Boolean", false}}},
		{"indexer and resource element", "Bundle.entry[0].resource",
			`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Composition","id":"c"}},{"resource":{"resourceType":"Patient"}}]}`,
			[]typed{{"Composition", map[string]any{"resourceType": "Composition", "id": "c"}}}},
		{"where on a code", "OrganizationAffiliation.telecom.where(system='email').value",
			`{"resourceType":"OrganizationAffiliation","telecom":[{"system":"phone","value":"1"},{"system":"email","value":"a@b"}]}`,
			[]typed{{"string", "a@b"}}},
		{"uri and canonical kept apart", "(ConceptMap.source as uri) | (ConceptMap.target as canonical)",
			`{"resourceType":"ConceptMap","sourceCanonical":"http://a","targetCanonical":"http://b"}`,
			[]typed{{"canonical", "http://b"}}},
		{"Age is a Quantity", "Condition.onset.as(Age).value | Condition.onset.is(Quantity)",
			`{"resourceType":"Condition","onsetAge":{"value":40,"code":"a"}}`,
			[]typed{{"decimal", json.Number("40")}, {"System.Boolean", true}}},
		{"extension by url", "Patient.extension('http://example.org/race').value",
			`{"resourceType":"Patient","extension":[{"url":"http://example.org/race","valueCode":"x"},{"url":"http://other","valueCode":"y"}]}`,
			[]typed{{"code", "x"}}},
		{"extension on a primitive", "Patient.birthDate.extension('http://example.org/time').value",
			`{"resourceType":"Patient","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://example.org/time","valueTime":"10:00:00"}]}}`,
			[]typed{{"time", "10:00:00"}}},
		{"decimals keep their digits", "RiskAssessment.prediction.probability",
			`{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":0.100}]}`,
			[]typed{{"decimal", json.Number("0.100")}}},
		{"contained resources are typed", "Observation.contained.ofType(Organization).id", obs, []typed{{"id", "org"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := MustParse(tc.expr).Eval(decode(t, tc.resource))
			if err != nil {
				t.Fatal(err)
			}
			if got := resultOf(items); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("%s\ngot  %v\nwant %v", tc.expr, got, tc.want)
			}
		})
	}
}

// resolverFunc adapts a function to Resolver.
type resolverFunc func(ctx context.Context, reference string) (any, error)

func (f resolverFunc) Resolve(ctx context.Context, reference string) (any, error) {
	return f(ctx, reference)
}

func TestResolver(t *testing.T) {
	patient := decode(t, `{"resourceType":"Patient","id":"p1","gender":"female"}`)
	r := resolverFunc(func(_ context.Context, ref string) (any, error) {
		if ref == "Patient/p1" {
			return patient, nil
		}
		return nil, nil
	})
	obs := decode(t, `{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Patient/p2"}]}`)
	tests := []struct {
		expr string
		opts []Option
		want []typed
	}{
		{"Observation.subject.resolve().gender", []Option{WithResolver(r)}, []typed{{"code", "female"}}},
		{"Observation.subject.resolve().gender", nil, nil},
		{"Observation.performer.resolve() is Patient", []Option{WithResolver(r)}, []typed{{"System.Boolean", true}}},
	}
	for _, tc := range tests {
		items, err := MustParse(tc.expr).Eval(obs, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := resultOf(items); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: got %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// TestCompositeComponents evaluates a composite parameter's components on
// the items of its own expression, as component-code-value-quantity does.
func TestCompositeComponents(t *testing.T) {
	obs := decode(t, `{"resourceType":"Observation","component":[
		{"code":{"text":"sys"},"valueQuantity":{"value":120,"code":"mm[Hg]"}},
		{"code":{"text":"note"},"valueString":"sitting","_valueString":{"extension":[{"url":"u","valueCode":"x"}]}}]}`)
	components, err := MustParse("Observation.component").Eval(obs)
	if err != nil {
		t.Fatal(err)
	}
	if len(components) != 2 || components[0].Type != "Observation.component" {
		t.Fatalf("components = %v", components)
	}
	tests := []struct {
		expr string
		want [2][]typed
	}{
		{"code.text", [2][]typed{{{"string", "sys"}}, {{"string", "note"}}}},
		{"value.as(Quantity).value", [2][]typed{{{"decimal", json.Number("120")}}, nil}},
		{"value.extension('u').value", [2][]typed{nil, {{"code", "x"}}}},
		{"%resource.component.count()", [2][]typed{{{"System.Integer", json.Number("2")}}, {{"System.Integer", json.Number("2")}}}},
	}
	for _, tc := range tests {
		for i, comp := range components {
			items, err := MustParse(tc.expr).Eval(comp, WithResource(obs))
			if err != nil {
				t.Fatal(err)
			}
			if got := resultOf(items); !reflect.DeepEqual(got, tc.want[i]) && len(got)+len(tc.want[i]) > 0 {
				t.Errorf("%s on component %d: got %v, want %v", tc.expr, i, got, tc.want[i])
			}
		}
	}
}
