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
	if !bytes.Contains(body, []byte(`"reference"`)) {
		return body, false, nil
	}
	if !json.Valid(body) {
		return nil, false, errInvalid("", "body is not valid JSON")
	}
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
				var ref string
				if err := json.Unmarshal(tok, &ref); err != nil {
					return nil, false, errInvalid("", "body is not valid JSON")
				}
				repl, ok, err := fn(ref)
				if err != nil {
					return nil, false, err
				}
				if ok && repl != ref {
					if out == nil {
						out = make([]byte, 0, len(body)+64)
					}
					enc, _ := json.Marshal(repl)
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
