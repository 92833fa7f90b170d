package fhir

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"

	"github.com/hearth-fhir/hearth/internal/jsonbytes"
)

// Object is the top level of a resource's JSON: member names in their order
// and their raw values. Hearth edits only the top level (id, meta) and keeps
// every other byte the client sent, so stored JSON can be served as is.
type Object struct {
	keys []string
	vals map[string]json.RawMessage
}

// ParseObject reads a JSON object's members without decoding their values.
// It refuses non-objects and duplicate member names. The values are kept
// compacted, in one buffer, so that rendering the object (several times
// per write) only copies them.
//
// Every write parses its body here, so it compacts the body in one pass
// and splits the members off the result; a body that does not compact is
// handed to the token decoder, which says what is wrong with it
// (FuzzParseObject holds the two to the same answers).
func ParseObject(body []byte) (*Object, error) {
	var packed bytes.Buffer
	packed.Grow(len(body))
	if json.Compact(&packed, body) != nil {
		return parseObjectByTokens(body)
	}
	return splitObject(packed.Bytes())
}

// splitObject is ParseObject of compact, valid JSON: it splits the members
// off without another pass over their values.
func splitObject(b []byte) (*Object, error) {
	if b[0] != '{' {
		return nil, errInvalid("", "body is not a JSON object")
	}
	o := &Object{vals: map[string]json.RawMessage{}}
	for i := 1; b[i] != '}'; {
		end := stringEnd(b, i)
		key, err := memberName(b[i:end])
		if err != nil {
			return nil, err
		}
		if _, dup := o.vals[key]; dup {
			return nil, errInvalid(key, "element %q appears twice", key)
		}
		start := end + 1 // past the colon
		i = valueEnd(b, start)
		o.keys = append(o.keys, key)
		o.vals[key] = b[start:i:i]
		if b[i] == ',' {
			i++
		}
	}
	return o, nil
}

// memberName decodes a member name token, as the token decoder would.
func memberName(tok []byte) (string, error) {
	plain := true
	for _, c := range tok[1 : len(tok)-1] {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return string(tok[1 : len(tok)-1]), nil
	}
	var name string
	if err := json.Unmarshal(tok, &name); err != nil {
		return "", errInvalid("", "body is not valid JSON")
	}
	return name, nil
}

// valueEnd returns the index just past the value starting at b[i], in
// compact, valid JSON.
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		if end, ok := jsonbytes.ContainerEnd(b, i); ok {
			return end
		}
		return len(b)
	}
	for j := i; j < len(b); j++ { // a number, true, false or null
		if c := b[j]; c == ',' || c == '}' || c == ']' {
			return j
		}
	}
	return len(b)
}

// parseObjectByTokens is ParseObject by encoding/json's token decoder:
// slower, and precise about what is wrong with a body.
func parseObjectByTokens(body []byte) (*Object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errInvalid("", "body is not a JSON object")
	}
	o := &Object{vals: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errInvalid("", "body is not valid JSON")
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errInvalid("", "body is not valid JSON")
		}
		if _, dup := o.vals[key]; dup {
			return nil, errInvalid(key, "element %q appears twice", key)
		}
		var packed bytes.Buffer
		if err := json.Compact(&packed, raw); err != nil {
			return nil, errInvalid("", "body is not valid JSON")
		}
		o.keys = append(o.keys, key)
		o.vals[key] = packed.Bytes()
	}
	if _, err := dec.Token(); err != nil {
		return nil, errInvalid("", "body is not valid JSON")
	}
	if dec.More() {
		return nil, errInvalid("", "body holds more than one JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errInvalid("", "body holds more than one JSON value")
	}
	return o, nil
}

// Object returns a member's value parsed as an object: nil when the member
// is absent or null, an error when it is not an object. The members of an
// Object are compact, valid JSON already, so nothing is parsed twice.
func (o *Object) Object(key string) (*Object, error) {
	raw := o.vals[key]
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, errInvalid(key, "%s must be a JSON object", key)
	}
	return splitObject(raw)
}

// Objects returns a member's value parsed as an array of objects (see
// Object): nil when the member is absent or null.
func (o *Object) Objects(key string) ([]*Object, error) {
	raw := o.vals[key]
	if raw == nil || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, errInvalid(key, "%s must be a JSON array", key)
	}
	var out []*Object
	for i := 1; raw[i] != ']'; {
		end := valueEnd(raw, i)
		if raw[i] != '{' {
			return nil, errInvalid(key, "%s must hold JSON objects", key)
		}
		elem, err := splitObject(raw[i:end:end])
		if err != nil {
			return nil, err
		}
		out = append(out, elem)
		i = end
		if raw[i] == ',' {
			i++
		}
	}
	return out, nil
}

// Get returns the raw value of a member, or nil.
func (o *Object) Get(key string) json.RawMessage { return o.vals[key] }

// String returns a member's value when it is a JSON string.
func (o *Object) String(key string) (string, bool) {
	raw, ok := o.vals[key]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// Set adds or replaces a member; new members go to the end.
func (o *Object) Set(key string, val json.RawMessage) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	var b bytes.Buffer
	if json.Compact(&b, val) == nil {
		val = b.Bytes()
	}
	o.vals[key] = val
}

// Delete removes a member.
func (o *Object) Delete(key string) {
	if _, ok := o.vals[key]; !ok {
		return
	}
	delete(o.vals, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// Bytes renders the object compactly with resourceType, id and meta first,
// then the other members in their original order.
func (o *Object) Bytes() []byte {
	order := make([]string, 0, len(o.keys))
	for _, k := range []string{"resourceType", "id", "meta"} {
		if _, ok := o.vals[k]; ok {
			order = append(order, k)
		}
	}
	for _, k := range o.keys {
		if k != "resourceType" && k != "id" && k != "meta" {
			order = append(order, k)
		}
	}
	return o.render(order)
}

// render writes the members named in order. Their values are compact
// already (ParseObject, Set).
func (o *Object) render(order []string) []byte {
	n := 2
	for _, k := range order {
		n += len(k) + 4 + len(o.vals[k])
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '{')
	for i, k := range order {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendName(buf, k)
		buf = append(buf, ':')
		buf = append(buf, o.vals[k]...)
	}
	return append(buf, '}')
}

// appendName appends a member name as a JSON string: FHIR's names as they
// are, anything else as encoding/json writes it.
func appendName(buf []byte, k string) []byte {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			name, _ := json.Marshal(k)
			return append(buf, name...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, k...)
	return append(buf, '"')
}

// FormatInstant renders a time as a FHIR instant in UTC with microseconds,
// the precision the stores keep.
func FormatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// Stamp sets the server-owned members: id, meta.versionId and
// meta.lastUpdated. Other meta members the client sent (profile, tag,
// security, source) are kept.
func (o *Object) Stamp(id string, version int64, lastUpdated time.Time) error {
	idJSON, _ := json.Marshal(id)
	o.Set("id", idJSON)
	meta := map[string]json.RawMessage{}
	var order []string
	if raw := o.vals["meta"]; raw != nil {
		mo, err := ParseObject(raw)
		if err != nil {
			return errInvalid("meta", "meta must be a JSON object")
		}
		meta, order = mo.vals, mo.keys
	}
	vid, _ := json.Marshal(strconv.FormatInt(version, 10))
	lu, _ := json.Marshal(FormatInstant(lastUpdated))
	mo := &Object{vals: meta, keys: order}
	mo.Delete("versionId")
	mo.Delete("lastUpdated")
	// versionId and lastUpdated lead meta, as in the specification's examples.
	mo.keys = append([]string{"versionId", "lastUpdated"}, mo.keys...)
	mo.vals["versionId"], mo.vals["lastUpdated"] = vid, lu
	o.Set("meta", mo.render(mo.keys))
	return nil
}

// Keys returns the member names in their order.
func (o *Object) Keys() []string { return append([]string(nil), o.keys...) }
