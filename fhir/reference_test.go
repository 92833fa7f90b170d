package fhir

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRewriteReferences(t *testing.T) {
	in := `{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.50},
"subject":{"reference":"urn:uuid:p1","display":"x"},
"performer":[{"reference":"urn:uuid:o1"},{"reference":"Practitioner/keep"}],
"contained":[{"resourceType":"Provenance","target":[{"reference":"urn:uuid:p1"}],"agent":[{"who":{"reference":"urn:uuid:o1"}}]}],
"extension":[{"url":"u","valueReference":{"reference":"urn:uuid:p1"}}],
"note":[{"text":"reference urn:uuid:p1 stays in text"}]}`
	mapping := map[string]string{"urn:uuid:p1": "Patient/1", "urn:uuid:o1": "Organization/2"}
	out, changed, err := RewriteReferences([]byte(in), func(ref string) (string, bool, error) {
		r, ok := mapping[ref]
		return r, ok, nil
	})
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	s := string(out)
	if strings.Contains(s, `"reference":"urn:uuid`) {
		t.Fatalf("unrewritten reference: %s", s)
	}
	for _, want := range []string{`"reference":"Patient/1"`, `"reference":"Organization/2"`, `"reference":"Practitioner/keep"`,
		`"value":1.50`, `reference urn:uuid:p1 stays in text`} {
		if !strings.Contains(s, want) {
			t.Fatalf("missing %s in %s", want, s)
		}
	}
	if strings.Count(s, `"reference":"Patient/1"`) != 3 {
		t.Fatalf("want 3 rewritten patient references (top, contained, extension): %s", s)
	}
	var a, b map[string]any
	if json.Unmarshal(out, &b) != nil || json.Unmarshal([]byte(in), &a) != nil {
		t.Fatal("not JSON")
	}
	if !strings.HasPrefix(s, `{"resourceType":"Observation","status":"final","valueQuantity"`) {
		t.Fatalf("member order changed: %s", s)
	}
}

func FuzzRewriteReferences(f *testing.F) {
	f.Add([]byte(`{"a":{"reference":"urn:uuid:x"},"b":[{"reference":"y"},1,null,true,"s"]}`))
	f.Add([]byte(`{"reference":{"reference":"urn:uuid:x"}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, changed, err := RewriteReferences(in, func(ref string) (string, bool, error) {
			return "Patient/1", strings.HasPrefix(ref, "urn:"), nil
		})
		if err != nil || !changed {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("rewrite of %q produced invalid JSON %q", in, out)
		}
	})
}
