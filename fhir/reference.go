package fhir

import (
	"bytes"
	"encoding/json"
	"io"
)

// RewriteReferences returns body with the value of every "reference" member
// (at any depth, contained resources included) replaced by fn's answer; fn
// returns ok=false to keep a value. Member order, numbers and every other
// value are kept. changed reports whether anything was replaced; when not,
// body itself is returned.
func RewriteReferences(body []byte, fn func(ref string) (string, bool, error)) (out []byte, changed bool, err error) {
	if !bytes.Contains(body, []byte(`"reference"`)) {
		return body, false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var buf bytes.Buffer
	buf.Grow(len(body))
	type frame struct {
		object    bool
		count     int
		expectKey bool
		key       string
	}
	var stack []frame
	// beginValue writes the separator before a value and reports the key it
	// belongs to ("" in arrays and at the top).
	beginValue := func() string {
		if len(stack) == 0 {
			return ""
		}
		top := &stack[len(stack)-1]
		if !top.object && top.count > 0 {
			buf.WriteByte(',')
		}
		top.count++
		top.expectKey = top.object
		if top.object {
			return top.key
		}
		return ""
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return nil, false, errInvalid("", "body is not valid JSON")
			}
			break
		}
		if err != nil {
			return nil, false, errInvalid("", "body is not valid JSON")
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				beginValue()
				buf.WriteByte(byte(d))
				stack = append(stack, frame{object: d == '{', expectKey: d == '{'})
			default:
				if len(stack) == 0 {
					return nil, false, errInvalid("", "body is not valid JSON")
				}
				stack = stack[:len(stack)-1]
				buf.WriteByte(byte(d))
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].expectKey {
			top := &stack[n-1]
			if top.count > 0 {
				buf.WriteByte(',')
			}
			top.key, _ = tok.(string)
			top.expectKey = false
			writeToken(&buf, top.key)
			buf.WriteByte(':')
			continue
		}
		key := beginValue()
		if s, ok := tok.(string); ok && key == "reference" {
			repl, ok, err := fn(s)
			if err != nil {
				return nil, false, err
			}
			if ok && repl != s {
				tok, changed = repl, true
			}
		}
		writeToken(&buf, tok)
	}
	if !changed {
		return body, false, nil
	}
	return buf.Bytes(), true, nil
}

// writeToken writes a scalar JSON token; json.Number keeps its digits.
func writeToken(buf *bytes.Buffer, tok any) {
	switch v := tok.(type) {
	case json.Number:
		buf.WriteString(v.String())
	case nil:
		buf.WriteString("null")
	default:
		enc, _ := json.Marshal(v)
		buf.Write(enc)
	}
}
