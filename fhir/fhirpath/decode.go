package fhirpath

import (
	"encoding/json"
	"errors"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hearth-fhir/hearth/fhir"
)

// Decode decodes FHIR JSON the way Eval expects it: objects as
// map[string]any, arrays as []any, numbers as json.Number (so decimals
// keep their exact value and precision), strings, bools and nil. It
// accepts exactly what json.Valid accepts and returns what
// encoding/json's Decoder with UseNumber returns (FuzzDecode holds it to
// that), in one pass instead of encoding/json's two, in about half its
// time (BenchmarkDecode): every write's index extraction decodes its
// resource. Strings share one copy of data, so a string kept keeps all
// of it; the values are meant for an evaluation, not to be stored.
func Decode(data []byte) (any, error) {
	// One copy of the text: plain strings are slices of it, not copies.
	d := decoder{data: data, text: string(data)}
	v, err := d.value(0)
	if err == nil {
		d.space()
		if d.pos != len(d.data) {
			err = errSyntax
		}
	}
	if err != nil {
		return nil, &fhir.Error{Kind: fhir.KindInvalid, Op: "fhirpath.Decode", Message: "body is not valid JSON", Cause: err}
	}
	return v, nil
}

var (
	errSyntax = errors.New("invalid JSON")
	// errDepth mirrors encoding/json's nesting limit.
	errDepth = errors.New("JSON nested too deeply")
)

// maxDecodeDepth is encoding/json's nesting limit.
const maxDecodeDepth = 10000

type decoder struct {
	data []byte
	text string // data as a string, which plain strings share
	pos  int
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	d.space()
	if d.pos >= len(d.data) {
		return nil, errSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, errSyntax
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return errSyntax
	}
	d.pos += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDecodeDepth {
		return nil, errDepth
	}
	d.pos++ // {
	m := map[string]any{}
	if d.eat('}') {
		return m, nil
	}
	for {
		d.space()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errSyntax
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		if !d.eat(':') {
			return nil, errSyntax
		}
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v // the last of repeated names wins, as in encoding/json
		if more, err := d.more('}'); !more {
			return m, err
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDecodeDepth {
		return nil, errDepth
	}
	d.pos++ // [
	a := []any{}
	if d.eat(']') {
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if more, err := d.more(']'); !more {
			return a, err
		}
	}
}

// eat consumes c after white space and reports whether it was there.
func (d *decoder) eat(c byte) bool {
	d.space()
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

// more reads what follows a member or an item: true after a comma, false
// after the container's closing bracket, false and an error otherwise.
func (d *decoder) more(closing byte) (bool, error) {
	switch {
	case d.eat(','):
		return true, nil
	case d.eat(closing):
		return false, nil
	}
	return false, errSyntax
}

// str reads a string. Plain strings (no escapes, valid UTF-8) are slices
// of the text; the rest are unquoted as encoding/json unquotes them.
func (d *decoder) str() (string, error) {
	start := d.pos
	d.pos++ // "
	plain := true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if plain {
				return d.text[start+1 : d.pos-1], nil
			}
			return unquote(d.data[start+1 : d.pos-1])
		case c == '\\':
			plain = false
			d.pos += 2 // the escaped byte is never the closing quote
		case c < 0x20:
			return "", errSyntax
		case c < utf8.RuneSelf:
			d.pos++
		default:
			r, n := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && n == 1 {
				plain = false
			}
			d.pos += n
		}
	}
	return "", errSyntax
}

// number reads a number in JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.digits() == 0:
		return nil, errSyntax
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.digits() == 0 {
			return nil, errSyntax
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, errSyntax
		}
	}
	return json.Number(d.text[start:d.pos]), nil
}

func (d *decoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}

// unquote decodes a string's contents with escapes or invalid UTF-8 the
// way encoding/json does: an invalid byte, or a \u escape of half a
// surrogate pair without its other half, becomes U+FFFD.
func unquote(s []byte) (string, error) {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 >= len(s) {
				return "", errSyntax
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r := hex4(s[i+2:])
				if r < 0 {
					return "", errSyntax
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := unicodeEscape(s[i:]); r2 >= 0 {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				return "", errSyntax
			}
			i += 2
		case c < 0x20:
			return "", errSyntax
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, r)
			i += n
		}
	}
	return string(b), nil
}

// unicodeEscape returns the rune of a \uXXXX escape at the start of s, or
// -1.
func unicodeEscape(s []byte) rune {
	if len(s) < 2 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	return hex4(s[2:])
}

// hex4 returns the value of four hex digits at the start of s, or -1.
func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
