package audit

import (
	"bytes"
	"slices"
	"strings"
)

// Patients returns the patients a resource concerns, as Patient/id: the
// resource itself when it is a Patient, and every Patient its top-level
// elements refer to (subject, patient, sender, recipient …). Deeper
// references are not followed; the top level is where R4 names the
// patient a resource is about.
//
// It runs on every audited read, so it scans the stored JSON once instead
// of decoding it: a top-level element that is a Reference, or an array of
// them, contributes its reference. An element whose shape is not that of
// a Reference (a non-string reference, an array holding other things)
// contributes nothing, as encoding/json decoding it into a Reference would
// fail.
func Patients(typ, id string, body []byte) []string {
	var out []string
	if typ == "Patient" && id != "" {
		out = append(out, "Patient/"+id)
	}
	// Most resources name no patient at all; skip the scan for them.
	if !bytes.Contains(body, []byte(`Patient/`)) {
		return out
	}
	// By element name: a repeated name's last value is the one that counts.
	byName := map[string][]string{}
	s := scanner{b: body, ok: true}
	if !s.object(func(key []byte) bool {
		byName[decodeKey(key)] = s.referencesOf(nil)
		return s.ok
	}) || !s.end() {
		return out
	}
	var refs []string
	for _, rs := range byName {
		refs = append(refs, rs...)
	}
	for _, r := range refs {
		if i := strings.Index(r, "Patient/"); i >= 0 && (i == 0 || r[i-1] == '/') {
			p := strings.SplitN(r[i:], "/", 3)
			if len(p) >= 2 && p[1] != "" {
				if s := "Patient/" + p[1]; !slices.Contains(out, s) {
					out = append(out, s)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// referencesOf consumes one top-level value and appends its references.
func (s *scanner) referencesOf(refs []string) []string {
	switch s.peek() {
	case '{':
		ref, ok := s.reference()
		if ok && ref != "" {
			refs = append(refs, ref)
		}
		return refs
	case '[':
		var found []string
		valid := true
		s.array(func(int) bool {
			switch s.peek() {
			case '{':
				ref, ok := s.reference()
				if !ok {
					valid = false
				} else if ref != "" {
					found = append(found, ref)
				}
				return s.ok
			case 'n':
				return s.literal("null")
			default:
				valid = false
				return s.skip()
			}
		})
		if !valid || !s.ok {
			return refs
		}
		return append(refs, found...)
	default:
		s.skip()
		return refs
	}
}

// reference consumes an object and returns its "reference" string (the
// last, matched case-insensitively, as encoding/json does); ok is false
// when that member is not a string or null.
func (s *scanner) reference() (ref string, ok bool) {
	ok = true
	s.fields(func(field string) bool {
		if field != "REFERENCE" {
			return s.skip()
		}
		switch s.peek() {
		case '"':
			raw, good := s.rawString()
			if !good {
				return false
			}
			ref = unquote(raw)
		case 'n': // leaves an earlier value, as encoding/json does
			return s.literal("null")
		default:
			ok = false
			return s.skip()
		}
		return true
	})
	return ref, ok && s.ok
}
