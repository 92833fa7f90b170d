package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Patients returns the patients a resource concerns, as Patient/id: the
// resource itself when it is a Patient, and every Patient its top-level
// elements refer to (subject, patient, sender, recipient …). Deeper
// references are not followed; the top level is where R4 names the
// patient a resource is about.
func Patients(typ, id string, body []byte) []string {
	var out []string
	if typ == "Patient" && id != "" {
		out = append(out, "Patient/"+id)
	}
	// Most resources name no patient at all; skip the decoding for them.
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
