package fhirpath

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		expr, msg string
	}{
		{"", "empty expression"},
		{"Patient.name.", "expected a name"},
		{"Patient.name.foo()", "unknown function foo()"},
		{"Patient.name.where()", "where() takes 1 argument"},
		{"Patient.name.substring(1, 2, 3)", "substring() takes 1 to 2 arguments"},
		{"Observation.value.as(Quantityy)", "unknown type Quantityy"},
		{"'unterminated", "'-quoted text is not closed"},
		{"1 +", "unexpected end of expression"},
		{"(1 + 2", `expected ")"`},
		{"@2015-13-01", "invalid date/time literal"},
		{"$that", "unknown special variable $that"},
		{"1 # 2", "unexpected character '#'"},
		{"99999999999999999999", "out of range"},
		{strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), "nests too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := Parse(tc.expr)
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Kind != fhir.KindInvalid {
				t.Fatalf("Parse(%q) = %v, want a *fhir.Error of kind invalid", tc.expr, err)
			}
			if !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("message %q does not say %q", fe.Message, tc.msg)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	patient := decode(t, `{"resourceType":"Patient","name":[{"given":["a","b"]}]}`)
	tests := []struct {
		expr, msg string
	}{
		{"Patient.name.given.single()", "single() needs a single input item"},
		{"Patient.name.given1", `HumanName has no element "given1"`},
		{"Patient.deceasedBoolean", `Patient has no element "deceasedBoolean"`},
		{"%unknown", "unknown variable %unknown"},
		{"Patient.name.given + 1", "arithmetic needs single items"},
		{"1 < 'a'", "cannot compare"},
		{"'a'.matches('(')", "invalid regular expression"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := MustParse(tc.expr).Eval(patient)
			var fe *fhir.Error
			if !errors.As(err, &fe) || fe.Kind != fhir.KindInvalid {
				t.Fatalf("Eval(%q) = %v, want a *fhir.Error of kind invalid", tc.expr, err)
			}
			if !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("message %q does not say %q", fe.Message, tc.msg)
			}
		})
	}
}

// TestResultTypes checks the Type and Value of computed results.
func TestResultTypes(t *testing.T) {
	tests := []struct {
		expr string
		want []typed
	}{
		{"true", []typed{{"System.Boolean", true}}},
		{"1 + 1", []typed{{"System.Integer", json.Number("2")}}},
		{"1.50 * 2", []typed{{"System.Decimal", json.Number("3.00")}}},
		{"'a' & 'b'", []typed{{"System.String", "ab"}}},
		{"@2014-02-03 + 1 month", []typed{{"System.Date", "2014-03-03"}}},
		{"@2014-02-03T10:00:00+01:00", []typed{{"System.DateTime", "2014-02-03T10:00:00+01:00"}}},
		{"@T10:00", []typed{{"System.Time", "10:00"}}},
		{"4 'mg'", []typed{{"System.Quantity", map[string]any{"value": json.Number("4"), "unit": "mg", "system": ucumSystem, "code": "mg"}}}},
		{"1 year", []typed{{"System.Quantity", map[string]any{"value": json.Number("1"), "unit": "year"}}}},
		{"2 weeks", []typed{{"System.Quantity", map[string]any{"value": json.Number("2"), "unit": "weeks", "system": ucumSystem, "code": "wk"}}}},
		{"{}", nil},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			items, err := MustParse(tc.expr).Eval(nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := resultOf(items); !reflect.DeepEqual(got, tc.want) && len(got)+len(tc.want) > 0 {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrimitiveWithOnlyExtensions(t *testing.T) {
	p := decode(t, `{"resourceType":"Patient","name":[{"given":["Ann",null],"_given":[null,{"extension":[{"url":"u","valueString":"x"}]}]}]}`)
	items, err := MustParse("Patient.name.given").Eval(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []typed{{"string", "Ann"}, {"string", nil}}
	if got := resultOf(items); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestOptions(t *testing.T) {
	clock := func() time.Time { return time.Date(2024, 2, 29, 23, 30, 0, 0, time.FixedZone("", -5*3600)) }
	var traced []string
	tracer := func(name string, items []Item) { traced = append(traced, name+":"+formatItems(items)) }
	part := decode(t, `{"family":"Doe"}`)
	patient := decode(t, `{"resourceType":"Patient","id":"p"}`)
	tests := []struct {
		expr string
		node any
		opts []Option
		want []typed
	}{
		{"today()", nil, []Option{WithClock(clock)}, []typed{{"System.Date", "2024-02-29"}}},
		{"now()", nil, []Option{WithClock(clock)}, []typed{{"System.DateTime", "2024-02-29T23:30:00.000-05:00"}}},
		{"%limit + 1", nil, []Option{WithVariable("limit", json.Number("41"))}, []typed{{"System.Integer", json.Number("42")}}},
		{"%names.count()", nil, []Option{WithVariable("names", []any{"a", "b"})}, []typed{{"System.Integer", json.Number("2")}}},
		{"%resource.id", part, []Option{WithResource(patient)}, []typed{{"id", "p"}}},
		{"family.trace('f')", part, []Option{WithTracer(tracer)}, []typed{{"", "Doe"}}},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			items, err := MustParse(tc.expr).Eval(tc.node, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if got := resultOf(items); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if want := []string{"f:[:Doe]"}; !reflect.DeepEqual(traced, want) {
		t.Errorf("traced %v, want %v", traced, want)
	}
}

func TestEvalHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := MustParse("Patient.name.where(given.exists())").EvalContext(ctx, decode(t, `{"resourceType":"Patient","name":[{}]}`))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestConcurrentEval shares one Expr between goroutines; run with -race.
func TestConcurrentEval(t *testing.T) {
	e := MustParse("Observation.component.where(code.text = 'sys').value.as(Quantity).value | Observation.subject.where(resolve() is Patient).reference")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := json.Number(strings.Repeat("1", 1+(g+i)%5))
				obs := map[string]any{"resourceType": "Observation", "subject": map[string]any{"reference": "Patient/x"},
					"component": []any{map[string]any{"code": map[string]any{"text": "sys"}, "valueQuantity": map[string]any{"value": v}}}}
				items, err := e.Eval(obs)
				if err != nil || len(items) != 2 || items[0].Value != v {
					t.Errorf("got %v, %v", items, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
