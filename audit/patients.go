package audit

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
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
	}) || s.peek() != 0 {
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

// scanner walks JSON text without decoding it. ok turns false at the first
// malformed byte.
type scanner struct {
	b  []byte
	i  int
	ok bool
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) peek() byte {
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// object walks an object, calling member with each key with the scanner at
// the member's value; member must consume the value. A top-level null is
// an empty object, as encoding/json has it.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.ok {
		return false
	}
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		key, ok := s.str()
		if !ok || s.peek() != ':' {
			return false
		}
		s.i++
		if !member(key) {
			s.ok = false
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
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
		s.i++
		if s.peek() == ']' {
			s.i++
			return refs
		}
		for s.ok {
			switch s.peek() {
			case '{':
				ref, ok := s.reference()
				if !ok {
					valid = false
				} else if ref != "" {
					found = append(found, ref)
				}
			case 'n':
				s.ok = s.ok && s.literal("null")
			default:
				valid = false
				s.skip()
			}
			switch s.peek() {
			case ',':
				s.i++
				continue
			case ']':
				s.i++
			default:
				s.ok = false
			}
			break
		}
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
	s.object(func(key []byte) bool {
		if !strings.EqualFold(decodeKey(key), "reference") {
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

// skip consumes any value.
func (s *scanner) skip() bool {
	switch c := s.peek(); {
	case c == '"':
		_, ok := s.rawString()
		s.ok = s.ok && ok
	case c == '{':
		s.object(func([]byte) bool { return s.skip() })
	case c == '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return s.ok
		}
		for s.ok {
			s.skip()
			switch s.peek() {
			case ',':
				s.i++
				continue
			case ']':
				s.i++
			default:
				s.ok = false
			}
			break
		}
	case c == 't':
		s.ok = s.ok && s.literal("true")
	case c == 'f':
		s.ok = s.ok && s.literal("false")
	case c == 'n':
		s.ok = s.ok && s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		for s.i < len(s.b) && strings.IndexByte("+-.eE0123456789", s.b[s.i]) >= 0 {
			s.i++
		}
	default:
		s.ok = false
	}
	return s.ok
}

func (s *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.ok = false
		return false
	}
	s.i += len(lit)
	return true
}

// str consumes a string and returns its contents, undecoded.
func (s *scanner) str() ([]byte, bool) {
	raw, ok := s.rawString()
	if !ok {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}

// rawString consumes a string and returns it with its quotes.
func (s *scanner) rawString() ([]byte, bool) {
	if s.peek() != '"' {
		s.ok = false
		return nil, false
	}
	start := s.i
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return s.b[start:s.i], true
		}
	}
	s.ok = false
	return nil, false
}

// decodeKey decodes the contents of a member name.
func decodeKey(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
		return string(key)
	}
	return unquote(append(append([]byte{'"'}, key...), '"'))
}

// unquote decodes a JSON string token.
func unquote(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1])
	}
	var out string
	if json.Unmarshal(raw, &out) != nil {
		return ""
	}
	return out
}
