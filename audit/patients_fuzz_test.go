package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// patientsByDecoding is the decoding implementation Patients replaced:
// the oracle its scanner must agree with on every valid JSON body.
func patientsByDecoding(typ, id string, body []byte) []string {
	var out []string
	if typ == "Patient" && id != "" {
		out = append(out, "Patient/"+id)
	}
	if !bytes.Contains(body, []byte(`Patient/`)) {
		return out
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return out
	}
	type ref struct {
		Reference string `json:"reference"`
	}
	add := func(r string) {
		if i := strings.Index(r, "Patient/"); i >= 0 && (i == 0 || r[i-1] == '/') {
			p := strings.SplitN(r[i:], "/", 3)
			if len(p) >= 2 && p[1] != "" {
				if s := "Patient/" + p[1]; !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	for _, raw := range top {
		if len(raw) == 0 {
			continue
		}
		switch raw[0] {
		case '{':
			var r ref
			if json.Unmarshal(raw, &r) == nil {
				add(r.Reference)
			}
		case '[':
			var rs []ref
			if json.Unmarshal(raw, &rs) == nil {
				for _, r := range rs {
					add(r.Reference)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

func FuzzPatients(f *testing.F) {
	for _, seed := range []string{
		`{"resourceType":"Communication","subject":{"reference":"Patient/p1"},"recipient":[{"reference":"Practitioner/d"},{"reference":"http://x/fhir/Patient/p2/_history/1"}]}`,
		`{"subject":{"reference":5,"x":"Patient/p"},"patient":[{"reference":"Patient/a"},"Patient/b"]}`,
		`{"subject":{"Reference":"Patient/c","reference":null},"a":[null,{"reference":"Patient/d"}],"b":{"reference":"Patient\/e"}}`,
		`{"subject":{"\u0072eference":"Patient/f"}} `,
		`[{"reference":"Patient/x"}]`,
		`null`,
		`{"a":{"b":{"reference":"Patient/deep"}},"c":[[{"reference":"Patient/nested"}]],"d":-1.5e3,"e":true}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if !json.Valid([]byte(body)) {
			return
		}
		got := Patients("Observation", "o1", []byte(body))
		want := patientsByDecoding("Observation", "o1", []byte(body))
		if !slices.Equal(got, want) {
			t.Fatalf("Patients(%s) = %v, decoding gives %v", body, got, want)
		}
	})
}
