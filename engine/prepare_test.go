package engine

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/fhir"
)

// FuzzPrepare drives the request-body path of every write: top-level parse,
// stamping and validation. Whatever it accepts must be valid JSON that the
// validator accepts again with its final version, and that carries the
// server's id; whatever it refuses must be a client error, never internal.
func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient"}`,
		`{"resourceType":"Patient","id":"x","meta":{"versionId":"9","tag":[{"code":"a"}]},"gender":"male"}`,
		`{"resourceType":"Patient","name":[{"family":"Ünal","given":["Zoë"]}],"birthDate":"1970"}`,
		`{"resourceType":"Patient","meta":[]}`,
		`{"resourceType":"Practitioner"}`,
		`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o"}],"managingOrganization":{"reference":"#o"}}`,
	} {
		f.Add([]byte(s))
	}
	v, err := fhir.NewValidator()
	if err != nil {
		f.Fatal(err)
	}
	e := New(nil, v, DefaultConfig(), WithClock(func() time.Time { return time.Unix(1700000000, 0) }))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := e.prepare(body, "Patient", "fuzz-id")
		if err != nil {
			if k := fhir.KindOf(err); k != fhir.KindInvalid {
				t.Fatalf("refusal of kind %v: %v", k, err)
			}
			return
		}
		rec, err := d.record("Patient", "fuzz-id", 7, e.stamp())
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if err := v.Validate(rec.Body); err != nil {
			t.Fatalf("stamped body no longer valid: %v\n%s", err, rec.Body)
		}
		var got struct {
			ID   string `json:"id"`
			Meta struct {
				VersionID string `json:"versionId"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(rec.Body, &got); err != nil || got.ID != "fuzz-id" || got.Meta.VersionID != "7" {
			t.Fatalf("stamped body %s: %v", rec.Body, err)
		}
	})
}
