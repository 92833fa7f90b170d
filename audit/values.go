package audit

import (
	"strings"

	"github.com/hearth-fhir/hearth/fhir/search"
	"github.com/hearth-fhir/hearth/store"
)

// ValuesOf lists the searchable values of a stored AuditEvent, each once.
// It reads the body as stored: an element sealed by field encryption (an
// object with _enc where the element was) yields nothing, whatever its
// type. base is the server's FHIR base URL: references under it are
// local, as in every other search.
//
// The indexer calls it for every AuditEvent, so it reads the body in one
// scan instead of decoding it, with the outcome encoding/json had when
// ValuesOf decoded the body into a struct (FuzzValuesOf holds it to
// that): text that is not JSON has no values; a member name matches an
// element without regard to case; a value of the wrong type, such as a
// sealed envelope, leaves the element as it was, and so does null; a
// repeated element is read again over the first, an array element over
// the one at its index, and null or [] empties an array.
func ValuesOf(body []byte, base string) []store.AuditValue {
	var ae indexedEvent
	// Room for a usual event's arrays, on the stack.
	var subtypes [2]indexedCoding
	var agents [4]indexedAgent
	var entities [4]indexedEntity
	ae.subtype, ae.agent, ae.entity = subtypes[:0], agents[:0], entities[:0]
	s := scanner{b: body, ok: true}
	if !s.fields(func(field string) bool { return ae.member(&s, field) }) || !s.end() {
		return nil
	}
	return ae.values(base)
}

// indexedEvent is what the index reads of an AuditEvent: the string
// tokens of the elements it takes values from, decoded only when they
// become values.
type indexedEvent struct {
	outcome  []byte
	typ      indexedCoding
	subtype  []indexedCoding
	observer []byte // source.observer.display
	agent    []indexedAgent
	entity   []indexedEntity
}

type indexedCoding struct{ system, code []byte }

// indexedAgent is agent.who.
type indexedAgent struct{ reference, idSystem, idValue []byte }

// indexedEntity is entity.what.
type indexedEntity struct{ reference []byte }

// member reads one of the AuditEvent's members (see scanner.fields).
func (ae *indexedEvent) member(s *scanner, field string) bool {
	switch field {
	case "OUTCOME":
		return s.stringInto(&ae.outcome)
	case "TYPE":
		return s.fields(func(field string) bool { return ae.typ.member(s, field) })
	case "SUBTYPE":
		return sliceInto(s, &ae.subtype, func(i int) bool { return s.fields(func(field string) bool { return ae.subtype[i].member(s, field) }) })
	case "SOURCE":
		return s.fields(func(field string) bool {
			if field != "OBSERVER" {
				return s.skip()
			}
			return s.fields(func(field string) bool {
				if field != "DISPLAY" {
					return s.skip()
				}
				return s.stringInto(&ae.observer)
			})
		})
	case "AGENT":
		return sliceInto(s, &ae.agent, func(i int) bool { return s.fields(func(field string) bool { return ae.agent[i].member(s, field) }) })
	case "ENTITY":
		return sliceInto(s, &ae.entity, func(i int) bool { return s.fields(func(field string) bool { return ae.entity[i].member(s, field) }) })
	}
	return s.skip()
}

func (c *indexedCoding) member(s *scanner, field string) bool {
	switch field {
	case "SYSTEM":
		return s.stringInto(&c.system)
	case "CODE":
		return s.stringInto(&c.code)
	}
	return s.skip()
}

func (a *indexedAgent) member(s *scanner, field string) bool {
	if field != "WHO" {
		return s.skip()
	}
	return s.fields(func(field string) bool {
		switch field {
		case "REFERENCE":
			return s.stringInto(&a.reference)
		case "IDENTIFIER":
			return s.fields(func(field string) bool {
				switch field {
				case "SYSTEM":
					return s.stringInto(&a.idSystem)
				case "VALUE":
					return s.stringInto(&a.idValue)
				}
				return s.skip()
			})
		}
		return s.skip()
	})
}

func (e *indexedEntity) member(s *scanner, field string) bool {
	if field != "WHAT" {
		return s.skip()
	}
	return s.fields(func(field string) bool {
		if field != "REFERENCE" {
			return s.skip()
		}
		return s.stringInto(&e.reference)
	})
}

// sliceInto reads an array into a slice of structs as encoding/json does,
// elem reading element i into (*v)[i]: that is the struct at index i of
// the slice's backing array, which an earlier array of the same name may
// have filled, and the slice takes the array's length. null or [] empties
// the slice and what its backing array held; anything else leaves it as
// it was.
func sliceInto[T any](s *scanner, v *[]T, elem func(i int) bool) bool {
	switch s.peek() {
	case 'n':
		clear((*v)[:cap(*v)])
		*v = (*v)[:0]
		return s.literal("null")
	case '[':
		*v = (*v)[:0]
		ok := s.array(func(i int) bool {
			if i >= cap(*v) {
				grown := make([]T, i, 2*i+1)
				copy(grown, *v)
				*v = grown
			}
			*v = (*v)[:i+1]
			return elem(i)
		})
		if len(*v) == 0 {
			clear((*v)[:cap(*v)])
		}
		return ok
	}
	return s.skip()
}

// size is how many values the event has at most and how long their text
// is, as long as no escapes are decoded.
func (ae *indexedEvent) size() (n, text int) {
	n = 3 // outcome, type, source
	text = len(ae.outcome) + len(ae.typ.system) + len(ae.typ.code) + len(ae.observer)
	for _, c := range ae.subtype {
		n, text = n+1, text+len(c.system)+len(c.code)
	}
	for _, a := range ae.agent {
		n, text = n+2, text+len(a.reference)+len(a.idSystem)+len(a.idValue)
	}
	for _, e := range ae.entity {
		n, text = n+1, text+len(e.reference)
	}
	return n, text
}

// values turns the tokens read into index values.
func (ae *indexedEvent) values(base string) []store.AuditValue {
	var ix indexer
	ix.grow(ae.size())
	ix.add(ParamOutcome, "", ix.text(ae.outcome))
	ix.add(ParamType, ix.text(ae.typ.system), ix.text(ae.typ.code))
	for _, c := range ae.subtype {
		ix.add(ParamSubtype, ix.text(c.system), ix.text(c.code))
	}
	ix.add(ParamSource, SourceType, ix.text(ae.observer))
	for _, a := range ae.agent {
		ix.reference(ParamAgent, ix.text(a.reference), base)
		ix.add(ParamAgentIdentifier, ix.text(a.idSystem), ix.text(a.idValue))
	}
	for _, e := range ae.entity {
		ix.reference(ParamEntity, ix.text(e.reference), base)
	}
	if len(ix.rows) == 0 {
		return nil
	}
	return ix.rows
}

// indexer collects distinct index values. The values' text is decoded
// into one buffer, which they share: one allocation for all of them.
type indexer struct {
	rows []store.AuditValue
	buf  strings.Builder
}

// grow makes room for n values with size bytes of text.
func (ix *indexer) grow(n, size int) {
	ix.rows = make([]store.AuditValue, 0, n)
	ix.buf.Grow(size)
}

// text decodes a string token into the buffer; nil is "".
func (ix *indexer) text(raw []byte) string {
	start := ix.buf.Len()
	if text, ok := verbatim(raw); ok {
		ix.buf.Write(text)
	} else {
		ix.buf.WriteString(unquote(raw))
	}
	// The builder only appends: what it has built stays as it is.
	return ix.buf.String()[start:]
}

func (ix *indexer) add(param, system, value string) {
	if value == "" {
		return
	}
	v := store.AuditValue{Param: param, System: system, Value: value}
	for _, r := range ix.rows {
		if r == v {
			return
		}
	}
	ix.rows = append(ix.rows, v)
}

// reference indexes a literal reference as type and id (the version left
// out), or as a URL when it is not local.
func (ix *indexer) reference(param, ref, base string) {
	if ref == "" {
		return
	}
	typ, id, url := search.SplitReference(ref, base)
	if url != "" {
		ix.add(param, "", url)
		return
	}
	ix.add(param, typ, id)
}
