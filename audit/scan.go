package audit

import (
	"bytes"
	"encoding/json"
	"unicode"
	"unicode/utf8"
)

// scanner walks JSON text in one pass without decoding it; Patients and
// ValuesOf read what they need on the way. It checks the syntax as
// strictly as encoding/json does (numbers, escapes, control characters,
// nesting depth), so that text encoding/json refuses is refused here too:
// ok turns false at the first malformed byte.
type scanner struct {
	b     []byte
	i     int
	ok    bool
	depth int // objects and arrays open
}

// maxDepth is encoding/json's limit on nesting: deeper text is a syntax
// error there.
const maxDepth = 10000

func (s *scanner) fail() bool {
	s.ok = false
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// end reports whether only space is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

func (s *scanner) peek() byte {
	s.space()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// open consumes the { or [ at the scanner and counts the level it opens.
func (s *scanner) open() bool {
	s.i++
	s.depth++
	return s.depth <= maxDepth || s.fail()
}

// object walks an object, calling member with each key with the scanner at
// the member's value; member must consume the value. A null is an empty
// object, as encoding/json has it at the top level.
func (s *scanner) object(member func(key []byte) bool) bool {
	if !s.ok {
		return false
	}
	if s.peek() == 'n' {
		return s.literal("null")
	}
	if s.peek() != '{' || !s.open() {
		return s.fail()
	}
	if s.peek() == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		key, ok := s.str()
		if !ok || s.peek() != ':' {
			return s.fail()
		}
		s.i++
		if !member(key) {
			return s.fail()
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return s.fail()
		}
	}
}

// array walks an array, calling elem with each index with the scanner at
// the element; elem must consume it.
func (s *scanner) array(elem func(i int) bool) bool {
	if !s.ok || s.peek() != '[' || !s.open() {
		return s.fail()
	}
	if s.peek() == ']' {
		s.i++
		s.depth--
		return true
	}
	for i := 0; ; i++ {
		if !elem(i) {
			return s.fail()
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return s.fail()
		}
	}
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
		s.array(func(int) bool { return s.skip() })
	case c == 't':
		s.ok = s.ok && s.literal("true")
	case c == 'f':
		s.ok = s.ok && s.literal("false")
	case c == 'n':
		s.ok = s.ok && s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		s.ok = s.ok && s.number()
	default:
		s.ok = false
	}
	return s.ok
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.fail()
	}
	s.i += len(lit)
	return true
}

// number consumes a number as JSON spells it: no leading zeros, no bare
// point or exponent.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return s.fail()
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			return s.fail()
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return s.fail()
		}
		i = j
	}
	s.i = i
	return true
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// str consumes a string and returns its contents, undecoded.
func (s *scanner) str() ([]byte, bool) {
	raw, ok := s.rawString()
	if !ok {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// rawString consumes a string and returns it with its quotes. Bytes that
// are not UTF-8 pass, as in encoding/json, which replaces them when it
// decodes the string.
func (s *scanner) rawString() ([]byte, bool) {
	if s.peek() != '"' {
		s.fail()
		return nil, false
	}
	b, start := s.b, s.i
	for i := start + 1; i < len(b); i++ {
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) || b[i] < 0x20 {
			break
		}
		if b[i] == '"' {
			s.i = i + 1
			return b[start:s.i], true
		}
		// A backslash.
		if i++; i >= len(b) {
			break
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			continue
		case 'u':
			if i+4 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) && isHex(b[i+3]) && isHex(b[i+4]) {
				i += 4
				continue
			}
		}
		break
	}
	s.fail()
	return nil, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// decodeKey decodes the contents of a member name.
func decodeKey(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 && utf8.Valid(key) {
		return string(key)
	}
	return unquote(append(append([]byte{'"'}, key...), '"'))
}

// unquote decodes a JSON string token; nil is the empty string.
func unquote(raw []byte) string {
	if text, ok := verbatim(raw); ok {
		return string(text)
	}
	// Escapes and bytes that are not UTF-8 are rare: encoding/json
	// decodes them. It gets a copy: what it is given escapes to the heap,
	// and raw would take ValuesOf's arrays of tokens with it.
	var out string
	if json.Unmarshal(bytes.Clone(raw), &out) != nil {
		return ""
	}
	return out
}

// verbatim returns the contents of a string token when they are its text
// as they stand: no escapes, valid UTF-8.
func verbatim(raw []byte) ([]byte, bool) {
	if len(raw) < 2 {
		return nil, true
	}
	raw = raw[1 : len(raw)-1]
	return raw, bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw)
}

// fields reads an object into a Go struct as encoding/json does: member
// is called with each member's name as the field it matches (see field),
// or "", and must consume the value. Anything but an object, null too, is
// consumed and leaves the struct as it was.
func (s *scanner) fields(member func(field string) bool) bool {
	if s.peek() != '{' {
		return s.skip()
	}
	return s.object(func(key []byte) bool { return member(field(key)) })
}

// stringInto reads a string field: it sets *raw to the string's token.
// Anything else, null too, is consumed and leaves the field as it was, as
// encoding/json does.
func (s *scanner) stringInto(raw *[]byte) bool {
	if s.peek() != '"' {
		return s.skip()
	}
	tok, ok := s.rawString()
	if ok {
		*raw = tok
	}
	return ok
}

// field returns the field of the structs Patients and ValuesOf read that
// a member name matches, "" for none. Names match as encoding/json matches
// them to fields, without regard to case: decoded, then ASCII letters in
// upper case and other runes the smallest of their case orbit, so that
// "ſource" is SOURCE.
func field(key []byte) string {
	if bytes.IndexByte(key, '\\') >= 0 {
		key = []byte(decodeKey(key))
	}
	var buf [len("IDENTIFIER")]byte // the longest field
	n := 0
	for i := 0; i < len(key); n++ {
		c := key[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(key[i:])
			if r = foldRune(r); r >= utf8.RuneSelf {
				return "" // no field has it
			}
			c, i = byte(r), i+size
		} else {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			i++
		}
		if n == len(buf) {
			return ""
		}
		buf[n] = c
	}
	// The field is a constant: member functions take it without an
	// allocation.
	switch string(buf[:n]) {
	case "AGENT":
		return "AGENT"
	case "CODE":
		return "CODE"
	case "DISPLAY":
		return "DISPLAY"
	case "ENTITY":
		return "ENTITY"
	case "IDENTIFIER":
		return "IDENTIFIER"
	case "OBSERVER":
		return "OBSERVER"
	case "OUTCOME":
		return "OUTCOME"
	case "REFERENCE":
		return "REFERENCE"
	case "SOURCE":
		return "SOURCE"
	case "SUBTYPE":
		return "SUBTYPE"
	case "SYSTEM":
		return "SYSTEM"
	case "TYPE":
		return "TYPE"
	case "VALUE":
		return "VALUE"
	case "WHAT":
		return "WHAT"
	case "WHO":
		return "WHO"
	}
	return ""
}

// foldRune is encoding/json's: the smallest rune of r's fold orbit.
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
