package fhir

import (
	"bytes"
	"encoding/json"

	"github.com/hearth-fhir/hearth/internal/jsonbytes"
)

// RewriteReferences returns body with the value of every "reference" member
// (at any depth, contained resources included) replaced by fn's answer; fn
// returns ok=false to keep a value. Every other byte is kept as it was.
// changed reports whether anything was replaced; when not, body itself is
// returned. A body that is not one JSON value is refused.
//
// Every entry of a transaction Bundle goes through here, so it scans the
// bytes once instead of decoding tokens (FuzzRewriteReferences holds it to
// the token-decoding version it replaced).
func RewriteReferences(body []byte, fn func(ref string) (string, bool, error)) (out []byte, changed bool, err error) {
	if !mayHoldReference(body) {
		return body, false, nil
	}
	if !json.Valid(body) {
		return nil, false, errInvalid("", "body is not valid JSON")
	}
	return rewriteValidReferences(body, fn)
}

// RewriteReferences is the package function over the object's members, in
// place: they are valid JSON already (ParseObject), so they are not checked
// again. It reports whether anything changed.
func (o *Object) RewriteReferences(fn func(ref string) (string, bool, error)) (bool, error) {
	changed := false
	for _, k := range o.keys {
		v := o.vals[k]
		if k == "reference" && len(v) > 0 && v[0] == '"' {
			// A "reference" member at the top: its value is the reference.
			out, ok, err := rewriteReference(v, fn)
			if err != nil {
				return false, err
			}
			if ok {
				o.vals[k], changed = out, true
			}
			continue
		}
		if !mayHoldReference(v) {
			continue
		}
		out, ok, err := rewriteValidReferences(v, fn)
		if err != nil {
			return false, err
		}
		if ok {
			o.vals[k], changed = out, true
		}
	}
	return changed, nil
}

// rewriteReference returns fn's answer for one reference's string token,
// and whether it differs from tok.
func rewriteReference(tok []byte, fn func(ref string) (string, bool, error)) ([]byte, bool, error) {
	var ref string
	if err := json.Unmarshal(tok, &ref); err != nil {
		return nil, false, errInvalid("", "body is not valid JSON")
	}
	repl, ok, err := fn(ref)
	if err != nil || !ok || repl == ref {
		return nil, false, err
	}
	enc, _ := json.Marshal(repl)
	return enc, true, nil
}

// rewriteValidReferences is RewriteReferences of a body known to be one
// valid JSON value.
func rewriteValidReferences(body []byte, fn func(ref string) (string, bool, error)) (out []byte, changed bool, err error) {
	var open []byte      // the containers around i: '{' or '['
	expectKey := false   // the next string is a member name
	inReference := false // the next value is a "reference" member's
	copied := 0          // body[:copied] is in out
	for i := 0; i < len(body); {
		switch c := body[i]; c {
		case '{', '[':
			open = append(open, c)
			expectKey, inReference = c == '{', false
			i++
		case '}', ']':
			open = open[:len(open)-1]
			expectKey = false
			i++
		case ',':
			expectKey = open[len(open)-1] == '{'
			i++
		case '"':
			end := stringEnd(body, i)
			tok := body[i:end]
			if expectKey {
				expectKey = false
				inReference = isReferenceName(tok)
			} else if inReference {
				inReference = false
				enc, ok, err := rewriteReference(tok, fn)
				if err != nil {
					return nil, false, err
				}
				if ok {
					if out == nil {
						out = make([]byte, 0, len(body)+64)
					}
					out = append(append(out, body[copied:i]...), enc...)
					copied, changed = end, true
				}
			}
			i = end
		case ' ', '\t', '\n', '\r', ':':
			i++
		default: // a number, true, false or null
			inReference = false
			i++
		}
	}
	if !changed {
		return body, false, nil
	}
	return append(out, body[copied:]...), true, nil
}

// stringEnd returns the index just past the JSON string starting at
// body[i], which is valid JSON.
func stringEnd(body []byte, i int) int {
	if end, ok := jsonbytes.StringEnd(body, i); ok {
		return end
	}
	return len(body)
}

// isReferenceName reports whether a member name token is "reference",
// escapes decoded.
func isReferenceName(tok []byte) bool {
	if bytes.Equal(tok, []byte(`"reference"`)) {
		return true
	}
	if bytes.IndexByte(tok, '\\') < 0 {
		return false
	}
	var name string
	return json.Unmarshal(tok, &name) == nil && name == "reference"
}

// mayHoldReference reports whether JSON text may hold a "reference"
// member: it names one, or it has escapes, which may spell the name.
func mayHoldReference(b []byte) bool {
	return bytes.Contains(b, []byte(`"reference"`)) || bytes.Contains(b, []byte(`\u`))
}
