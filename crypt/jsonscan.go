package crypt

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/hearth-fhir/hearth/internal/jsonbytes"
)

// A small scanner over JSON text that splits objects and arrays into the raw
// bytes of their parts without decoding them, so that a body can be
// rebuilt with every untouched byte exactly as it was. It expects the
// compact JSON the stores hold; whitespace between tokens is skipped, and
// dropped where a container is rebuilt.

var errJSON = errors.New("crypt: body is not valid JSON")

// member is one object member: its raw key, quotes included, and raw value.
type member struct {
	rawKey []byte
	val    []byte
}

// name returns the member's key decoded.
func (m member) name() string {
	if bytes.IndexByte(m.rawKey, '\\') < 0 {
		return string(m.rawKey[1 : len(m.rawKey)-1])
	}
	var s string
	if json.Unmarshal(m.rawKey, &s) != nil {
		return ""
	}
	return s
}

// is reports whether the member's key is name, without decoding a key
// that has no escapes.
func (m member) is(name string) bool {
	if bytes.IndexByte(m.rawKey, '\\') < 0 {
		return string(m.rawKey[1:len(m.rawKey)-1]) == name
	}
	return m.name() == name
}

// objectMembers splits a JSON object; ok is false when b is not an object.
func objectMembers(b []byte) (ms []member, ok bool, err error) {
	// One allocation for the members of most elements; a resource's top
	// level grows it once or twice.
	ms, ok, err = appendMembers(make([]member, 0, 8), b)
	if len(ms) == 0 {
		ms = nil
	}
	return ms, ok, err
}

// appendMembers appends the members of the JSON object b to ms; ok is
// false when b is not an object. On an error ms is returned as it was.
func appendMembers(ms []member, b []byte) ([]member, bool, error) {
	had := ms
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return had, false, nil
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return had, true, checkEnd(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return had, true, errJSON
		}
		kEnd, err := skipString(b, i)
		if err != nil {
			return had, true, err
		}
		key := b[i:kEnd]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return had, true, errJSON
		}
		vStart := skipSpace(b, i+1)
		vEnd, err := skipValue(b, vStart)
		if err != nil {
			return had, true, err
		}
		ms = append(ms, member{rawKey: key, val: b[vStart:vEnd]})
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			if err := checkEnd(b, i+1); err != nil {
				return had, true, err
			}
			return ms, true, nil
		}
		return had, true, errJSON
	}
}

// arrayItems splits a JSON array; ok is false when b is not an array.
func arrayItems(b []byte) (items [][]byte, ok bool, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, false, nil
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return nil, true, checkEnd(b, i+1)
	}
	for {
		end, err := skipValue(b, i)
		if err != nil {
			return nil, true, err
		}
		items = append(items, b[i:end])
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == ']' {
			return items, true, checkEnd(b, i+1)
		}
		return nil, true, errJSON
	}
}

func checkEnd(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errJSON
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	end, ok := jsonbytes.StringEnd(b, i)
	if !ok {
		return 0, errJSON
	}
	return end, nil
}

// skipValue returns the index after the value starting at b[i]. Containers
// are skipped by counting brackets outside strings; their contents are
// checked only where they are split themselves.
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errJSON
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		end, ok := jsonbytes.ContainerEnd(b, i)
		if !ok {
			return 0, errJSON
		}
		return end, nil
	default: // number, true, false, null
		j := i
		for j < len(b) && !endsScalar(b[j]) {
			j++
		}
		if j == i {
			return 0, errJSON
		}
		return j, nil
	}
}

// renderObject writes members back as a compact object.
func renderObject(ms []member) []byte {
	n := 2
	for _, m := range ms {
		n += len(m.rawKey) + len(m.val) + 2
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, m := range ms {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.rawKey...)
		out = append(out, ':')
		out = append(out, m.val...)
	}
	return append(out, '}')
}

// renderArray writes items back as a compact array.
func renderArray(items [][]byte) []byte {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '[')
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	return append(out, ']')
}

// endsScalar reports whether c ends a number or literal.
func endsScalar(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\n', '\r', '\t':
		return true
	}
	return false
}
