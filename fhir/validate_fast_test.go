package fhir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	dpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	"google.golang.org/protobuf/proto"
)

// benchCommunication is shaped like the W1 workload's secure message.
const benchCommunication = `{"resourceType":"Communication","id":"0190f0a1-7a2b-7c3d-8e4f-a0b1c2d3e4f5","meta":{"versionId":"1","lastUpdated":"2026-11-22T10:00:00.123Z"},"status":"completed",
"identifier":[{"system":"urn:ietf:rfc:3986","value":"urn:uuid:6e0b1a2c-3d4e-4f50-8a61-7b8c9d0e1f20"}],
"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/communication-category","code":"notification"}],"text":"Notification"}],
"priority":"routine","subject":{"reference":"Patient/p1","display":"Peter James Chalmers"},
"topic":{"text":"Follow-up on lab results"},
"sent":"2024-03-14T10:32:00+01:00","received":"2024-03-14T10:32:05+01:00",
"recipient":[{"reference":"Practitioner/r1","display":"Dr. Evelyn van den Berg"},{"reference":"Practitioner/r2","display":"Nurse Jonas Okafor"}],
"sender":{"reference":"Practitioner/s1","display":"Dr. Amara Lindqvist"},
"payload":[{"contentString":"The HbA1c came back at 7.9% which is above the target.\nPlease call \"the patient\"."}],
"note":[{"text":"Patient consented to contact by phone."}]}`

func fastExamples(t testing.TB) map[string][]byte {
	files, _ := filepath.Glob("testdata/examples/*.json")
	if len(files) == 0 {
		t.Fatal("no examples in testdata/examples")
	}
	out := map[string][]byte{"bench-communication": []byte(benchCommunication)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

// TestFastValidCovers: the fast path settles the shapes writes carry, so
// that the slow validator runs only for the unusual ones.
func TestFastValidCovers(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var accepted, valid int
	var missed []string
	for name, body := range fastExamples(t) {
		if v.slowValidate(body) != nil {
			continue
		}
		valid++
		if fastValid(body) {
			accepted++
		} else {
			missed = append(missed, name)
		}
	}
	sort.Strings(missed)
	t.Logf("fast path accepts %d of %d valid examples; left to google/fhir: %s", accepted, valid, strings.Join(missed, ", "))
	for _, must := range []string{"bench-communication", "Communication-example.json", "Communication-fm-attachment.json", "Practitioner-example.json", "PractitionerRole-example.json", "Organization-1.json"} {
		if fastValid(fastExamples(t)[must]) != true {
			t.Errorf("fast path gives up on %s", must)
		}
	}
	if accepted*10 < valid*7 {
		t.Errorf("fast path accepts only %d of %d valid examples", accepted, valid)
	}
}

// TestFastValidSound mutates every example one value or member at a time
// and holds the fast path to its contract: whatever it accepts,
// google/fhir accepts.
func TestFastValidSound(t *testing.T) {
	v, err := NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var checked, fastAccepted int
	for name, body := range fastExamples(t) {
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		// Every mutation of the small examples, an even sample of the
		// large ones: the test stays within seconds.
		step := max(1, len(mutations(doc, 0))/400)
		for _, b := range mutations(doc, step) {
			checked++
			if !fastValid(b) {
				continue
			}
			fastAccepted++
			if err := v.slowValidate(b); err != nil {
				t.Errorf("%s: fast path accepts what google/fhir refuses (%v):\n%s", name, err, b)
			}
		}
	}
	t.Logf("%d mutations, %d accepted by the fast path", checked, fastAccepted)
	if fastAccepted == 0 || fastAccepted == checked {
		t.Fatalf("mutations tell nothing: %d of %d accepted", fastAccepted, checked)
	}
}

// replacements are values each leaf and member is swapped for.
var replacements = []any{
	"", " ", "x", "a b", "\u0001", "completed", "COMPLETED", "in-progress", "Patient/1", "Organization/1",
	"Patient/1/_history/2", "Basic/1", "Foo/1", "#c1", "urn:uuid:0190f0a1-7a2b-7c3d-8e4f-a0b1c2d3e4f5",
	"http://example.org/fhir/Patient/1", "http://[::1", "2024", "2024-02", "2024-02-30", "2024-02-29",
	"2023-02-29", "2024-03-14T10:32:00Z", "2024-03-14T10:32:00.123+01:00", "2024-03-14T10:32", "2024-03-14T24:00:00Z",
	"10:32:00", "0", "-1", "2147483648", "1.5", "a/b/c", "\u00e9", "\ufffd",
	0.0, 1.0, -1.0, 1.5, 2147483647.0, 2147483648.0, -2147483649.0, 1e3,
	true, false, nil, map[string]any{}, []any{}, map[string]any{"resourceType": "Patient"}, []any{"x"},
}

// mutations returns doc rendered with one change each (a value replaced, a
// member removed, a member added, an array unwrapped), every step-th of
// them; step 0 renders none and only counts them (len of the result).
func mutations(doc any, step int) [][]byte {
	var out [][]byte
	n := 0
	emit := func() {
		if step == 0 {
			out = append(out, nil)
		} else if n%step == 0 {
			out = append(out, render(doc))
		}
		n++
	}
	var walk func(v any, set func(any))
	walk = func(v any, set func(any)) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				old := x[k]
				delete(x, k)
				emit()
				x[k] = old
				walk(old, func(n any) { x[k] = n })
				x[k] = old
			}
			for _, extra := range []string{"foo", "_status", "valueString", "valueBoolean", "Status", "resourceType"} {
				if _, ok := x[extra]; !ok {
					x[extra] = "x"
					emit()
					delete(x, extra)
				}
			}
		case []any:
			for i := range x {
				old := x[i]
				walk(old, func(n any) { x[i] = n })
				x[i] = old
			}
			if len(x) > 0 {
				set(x[0])
				emit()
				set(x)
			}
		default:
			for _, r := range replacements {
				set(r)
				emit()
			}
			set(v)
		}
	}
	walk(doc, func(any) {})
	return out
}

// render marshals v with resourceType leading each object that has one,
// as clients send it (the fast path expects it first).
func render(v any) []byte {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			if k != "resourceType" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if _, ok := x["resourceType"]; ok {
			keys = append([]string{"resourceType"}, keys...)
		}
		b := []byte{'{'}
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			kb, _ := json.Marshal(k)
			b = append(append(append(b, kb...), ':'), render(x[k])...)
		}
		return append(b, '}')
	case []any:
		b := []byte{'['}
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, render(e)...)
		}
		return append(b, ']')
	default:
		b, _ := json.Marshal(v)
		return b
	}
}

// FuzzFastValid holds the fast path to its contract on arbitrary bytes.
func FuzzFastValid(f *testing.F) {
	for _, body := range fastExamples(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"resourceType":"Communication","status":"completed","sender":{"reference":"Patient/1/_history/1"}}`))
	f.Add([]byte(`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.50,"unit":"mg"},"valueString":"x"}`))
	f.Add([]byte(`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient","id":"a"},"request":{"method":"POST","url":"Patient"}}]}`))
	v, err := NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if fastValid(body) {
			if err := v.slowValidate(body); err != nil {
				t.Fatalf("fast path accepts what google/fhir refuses (%v):\n%s", err, body)
			}
		}
	})
}

// TestDecimalIsJSONNumber: the fast path checks decimals with JSON's number
// grammar alone, which is sound while google/fhir's expression is that
// grammar.
func TestDecimalIsJSONNumber(t *testing.T) {
	d := (&dpb.Decimal{}).ProtoReflect().Descriptor()
	expr, _ := proto.GetExtension(d.Options(), apb.E_ValueRegex).(string)
	if want := `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; expr != want {
		t.Fatalf("decimal expression %q, the fast path assumes %q", expr, want)
	}
	for _, n := range []string{"0", "-0.5", "10", "1e5", "1.5E-3"} {
		s := fastScan{b: []byte(n)}
		if _, ok := s.number(); !ok || s.i != len(n) {
			t.Errorf("number refuses %q", n)
		}
	}
	for _, n := range []string{"01", "-", "1.", ".5", "1e", "+1", "-01.5"} {
		s := fastScan{b: []byte(n)}
		if _, ok := s.number(); ok && s.i == len(n) {
			t.Errorf("number accepts %q", n)
		}
	}
}

// FuzzShapes holds the cheap shapes to the expressions they stand for.
func FuzzShapes(f *testing.F) {
	for _, s := range []string{"a", "abc-1.2", "a b", "a  b", " a", "a\tb", "2024", "2024-02", "2024-02-30",
		"2024-03-14T10:32:00Z", "2024-03-14T10:32:00.5+14:00", "2024-03-14T10:32:00+13:59", "2024-03-14T23:59:59-14:01",
		"2024-00", "2024-13", "2024-01-32", "2024-01-01T24:00:00Z", strings.Repeat("a", 65)} {
		f.Add(s)
	}
	idRegex := regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)
	codeRegex := regexp.MustCompile(`^[^\s]+(\s[^\s]+)*$`)
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return // the scanner never hands over invalid UTF-8
		}
		if idShape(v) && !idRegex.MatchString(v) {
			t.Fatalf("idShape accepts %q", v)
		}
		if codeShape(v) && !codeRegex.MatchString(v) {
			t.Fatalf("codeShape accepts %q", v)
		}
		if parts, ok := dateShape(v); ok {
			if !fastDateTimeRegex.MatchString(v) {
				t.Fatalf("dateShape accepts %q as a dateTime", v)
			}
			if parts <= 3 && !fastDateRegex.MatchString(v) {
				t.Fatalf("dateShape accepts %q as a date", v)
			}
			if parts == 4 && !fastInstantRegex.MatchString(v) {
				t.Fatalf("dateShape accepts %q as an instant", v)
			}
		}
	})
}
