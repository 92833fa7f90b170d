package crypt

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// Elements is the set of encrypted elements, per resource type: paths such
// as Patient.name or DocumentReference.content.attachment.data. A path
// names an element wherever it occurs: through arrays (every content's
// attachment's data), with its primitive extension (_birthDate beside
// birthDate), and for choice elements written value[x] as every valueString,
// valueQuantity and so on.
type Elements struct {
	byType map[string][][]string // type → paths split into segments
}

// DefaultElements covers protected health information in the resources
// Hearth's workflows carry: who the patient is and how to reach them, what
// the messages, forms and documents say, and the narrative, which repeats
// all of it in HTML.
func DefaultElements() *Elements {
	e, err := ParseElements(defaultElements)
	if err != nil {
		panic(err) // the list below is fixed and tested
	}
	return e
}

var defaultElements = []string{
	"Patient.identifier", "Patient.name", "Patient.telecom", "Patient.address", "Patient.birthDate",
	"Patient.photo", "Patient.contact", "Patient.text",
	"RelatedPerson.identifier", "RelatedPerson.name", "RelatedPerson.telecom", "RelatedPerson.address",
	"RelatedPerson.birthDate", "RelatedPerson.photo", "RelatedPerson.text",
	"Practitioner.telecom", "Practitioner.address", "Practitioner.birthDate", "Practitioner.photo", "Practitioner.text",
	"Communication.payload", "Communication.note", "Communication.text",
	"CommunicationRequest.payload", "CommunicationRequest.note", "CommunicationRequest.text",
	"QuestionnaireResponse.item", "QuestionnaireResponse.text",
	"Binary.data",
	"DocumentReference.content.attachment.data", "DocumentReference.description", "DocumentReference.text",
	// An AuditEvent of a search records the query twice: base64 in query
	// and as text in description; search values are PHI.
	"AuditEvent.entity.query", "AuditEvent.entity.description",
}

// ParseElements reads paths of the form Type.element[.element…]; an
// element may end in [x] for a choice element.
func ParseElements(paths []string) (*Elements, error) {
	e := &Elements{byType: map[string][][]string{}}
	for _, p := range paths {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		segs := strings.Split(p, ".")
		if len(segs) < 2 || !isTypeName(segs[0]) {
			return nil, fmt.Errorf("crypt: %q is not an element path like Patient.name", p)
		}
		for i, s := range segs[1:] {
			if !isElementName(strings.TrimSuffix(s, "[x]")) || (strings.HasSuffix(s, "[x]") && i != len(segs)-2) {
				return nil, fmt.Errorf("crypt: %q: %q is not an element name", p, s)
			}
		}
		typ, rest := segs[0], segs[1:]
		if slices.ContainsFunc(e.byType[typ], func(q []string) bool { return slices.Equal(q, rest) }) {
			continue
		}
		e.byType[typ] = append(e.byType[typ], rest)
	}
	for typ := range e.byType {
		// An element inside another encrypted one is already covered.
		ps := e.byType[typ]
		sort.Slice(ps, func(i, j int) bool { return len(ps[i]) < len(ps[j]) })
		var kept [][]string
		for _, p := range ps {
			if !slices.ContainsFunc(kept, func(k []string) bool { return covers(k, p) }) {
				kept = append(kept, p)
			}
		}
		e.byType[typ] = kept
	}
	return e, nil
}

// ReadElements reads paths from a file's text: one per line, or several
// separated by commas; # starts a comment.
func ReadElements(r io.Reader) (*Elements, error) {
	var paths []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		paths = append(paths, strings.Split(line, ",")...)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("crypt: read element list: %w", err)
	}
	return ParseElements(paths)
}

// Types lists the resource types with encrypted elements, sorted.
func (e *Elements) Types() []string {
	out := make([]string, 0, len(e.byType))
	for t := range e.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Paths lists the encrypted paths of a type, as Type.element…, sorted.
func (e *Elements) Paths(typ string) []string {
	var out []string
	for _, p := range e.byType[typ] {
		out = append(out, typ+"."+strings.Join(p, "."))
	}
	sort.Strings(out)
	return out
}

// Encrypts reports whether typ has encrypted elements.
func (e *Elements) Encrypts(typ string) bool { return len(e.byType[typ]) > 0 }

// Covers reports whether the element at path (Type.element…, without array
// indexes or FHIRPath functions) is encrypted: it is, or lies inside, a
// configured element. Search uses it to tell which parameters need blind
// indexes.
func (e *Elements) Covers(path string) bool {
	segs := strings.Split(path, ".")
	if len(segs) < 2 {
		return false
	}
	return slices.ContainsFunc(e.byType[segs[0]], func(p []string) bool { return covers(p, segs[1:]) })
}

// Touches reports whether the element at path overlaps an encrypted one:
// it is encrypted (Covers) or holds an encrypted element inside it
// (Patient.contact holds Patient.contact.name when only that is
// encrypted). An index over such an element would show encrypted data.
func (e *Elements) Touches(path string) bool {
	segs := strings.Split(path, ".")
	if len(segs) < 2 {
		return false
	}
	return slices.ContainsFunc(e.byType[segs[0]], func(p []string) bool { return covers(p, segs[1:]) || covers(segs[1:], p) })
}

// covers reports whether configured path p is q or an ancestor of it.
func covers(p, q []string) bool {
	if len(q) < len(p) {
		return false
	}
	for i, s := range p {
		if !matchesName(s, q[i]) && s != q[i] {
			return false
		}
	}
	return true
}

// matchesName reports whether a JSON member name is the element a path
// segment names: the same name, or a type-suffixed form of a choice
// element (valueString for value[x]). Primitive extensions (_birthDate)
// are matched by the caller.
func matchesName(seg, name string) bool {
	base, choice := strings.CutSuffix(seg, "[x]")
	if !choice {
		return name == seg
	}
	rest, ok := strings.CutPrefix(name, base)
	return ok && rest != "" && rest[0] >= 'A' && rest[0] <= 'Z'
}

func isTypeName(s string) bool {
	return s != "" && s[0] >= 'A' && s[0] <= 'Z' && isIdent(s)
}

func isElementName(s string) bool {
	return s != "" && s[0] >= 'a' && s[0] <= 'z' && isIdent(s)
}

func isIdent(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
