package fhir

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestRewriteReferences(t *testing.T) {
	in := `{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.50},
"subject":{"reference":"urn:uuid:p1","display":"x"},
"performer":[{"reference":"urn:uuid:o1"},{"reference":"Practitioner/keep"}],
"contained":[{"resourceType":"Provenance","target":[{"reference":"urn:uuid:p1"}],"agent":[{"who":{"reference":"urn:uuid:o1"}}]}],
"extension":[{"url":"u","valueReference":{"reference":"urn:uuid:p1"}}],
"note":[{"text":"reference urn:uuid:p1 stays in text"}]}`
	mapping := map[string]string{"urn:uuid:p1": "Patient/1", "urn:uuid:o1": "Organization/2"}
	out, changed, err := RewriteReferences([]byte(in), func(ref string) (string, bool, error) {
		r, ok := mapping[ref]
		return r, ok, nil
	})
	if err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	s := string(out)
	if strings.Contains(s, `"reference":"urn:uuid`) {
		t.Fatalf("unrewritten reference: %s", s)
	}
	for _, want := range []string{`"reference":"Patient/1"`, `"reference":"Organization/2"`, `"reference":"Practitioner/keep"`,
		`"value":1.50`, `reference urn:uuid:p1 stays in text`} {
		if !strings.Contains(s, want) {
			t.Fatalf("missing %s in %s", want, s)
		}
	}
	if strings.Count(s, `"reference":"Patient/1"`) != 3 {
		t.Fatalf("want 3 rewritten patient references (top, contained, extension): %s", s)
	}
	var a, b map[string]any
	if json.Unmarshal(out, &b) != nil || json.Unmarshal([]byte(in), &a) != nil {
		t.Fatal("not JSON")
	}
	if !strings.HasPrefix(s, `{"resourceType":"Observation","status":"final","valueQuantity"`) {
		t.Fatalf("member order changed: %s", s)
	}
}

// RewriteReferences rewrites what the token-decoding version it replaced
// did: on one JSON value both succeed or both fail, change the same, and
// give the same JSON (that one compacted, this one keeping the bytes).
func FuzzRewriteReferences(f *testing.F) {
	f.Add([]byte(`{"a":{"reference":"urn:uuid:x"},"b":[{"reference":"y"},1,null,true,"s"]}`))
	f.Add([]byte(`{"reference":{"reference":"urn:uuid:x"}}`))
	f.Add([]byte(`{ "refer\u0065nce" : "urn:a" , "x":["reference","urn:b"],"reference":1.50e3, "y":{"reference":"urn:\"q<"}}`))
	f.Add([]byte(`[{"reference":"urn:1"},{"reference":"keep"}] `))
	f.Fuzz(func(t *testing.T, in []byte) {
		fn := func(ref string) (string, bool, error) {
			return "Patient/<" + ref + ">", strings.HasPrefix(ref, "urn:"), nil
		}
		out, changed, err := RewriteReferences(in, fn)
		if !json.Valid(in) {
			if err == nil && changed {
				t.Fatalf("rewrote %q, which is not JSON", in)
			}
			return
		}
		want, wantChanged, wantErr := rewriteReferencesByTokens(in, fn)
		if (err != nil) != (wantErr != nil) || changed != wantChanged {
			t.Fatalf("%q: changed %v err %v; by tokens changed %v err %v", in, changed, err, wantChanged, wantErr)
		}
		// Member by member over the parsed object, the same.
		if o, perr := ParseObject(in); perr == nil {
			objChanged, objErr := o.RewriteReferences(fn)
			if (objErr != nil) != (err != nil) || objChanged != changed {
				t.Fatalf("%q: object changed %v err %v; body changed %v err %v", in, objChanged, objErr, changed, err)
			}
			if objErr == nil && !sameJSON(o.render(o.keys), want) {
				t.Fatalf("%q: object gives %q, by tokens %q", in, o.render(o.keys), want)
			}
		}
		if err != nil {
			return
		}
		if !changed && !bytes.Equal(out, in) {
			t.Fatalf("%q unchanged, but returned %q", in, out)
		}
		if !sameJSON(out, want) {
			t.Fatalf("%q: got %q, by tokens %q", in, out, want)
		}
	})
}

// sameJSON reports whether a and b decode to the same value, numbers
// compared by their text.
func sameJSON(a, b []byte) bool {
	decode := func(b []byte) (any, bool) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		return v, d.Decode(&v) == nil
	}
	va, okA := decode(a)
	vb, okB := decode(b)
	return okA && okB && reflect.DeepEqual(va, vb)
}

// rewriteReferencesByTokens is RewriteReferences as it was written with
// encoding/json's token decoder, kept as the fuzz oracle.
func rewriteReferencesByTokens(body []byte, fn func(ref string) (string, bool, error)) (out []byte, changed bool, err error) {
	if !mayHoldReference(body) {
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
