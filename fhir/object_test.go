package fhir

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseObject(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"object", `{"a":1,"b":[1,2],"c":{"d":"é"}}`, true},
		{"empty object", `{}`, true},
		{"array", `[1]`, false},
		{"string", `"x"`, false},
		{"truncated", `{"a":`, false},
		{"trailing value", `{"a":1}{"b":2}`, false},
		{"trailing garbage", `{"a":1} x`, false},
		{"duplicate", `{"a":1,"a":2}`, false},
		{"bad nested", `{"a":[1,}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseObject([]byte(tc.in))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseObject(%s) err=%v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && KindOf(err) != KindInvalid {
				t.Fatalf("kind %v, want invalid", KindOf(err))
			}
		})
	}
}

func TestStampKeepsClientMetaAndOrder(t *testing.T) {
	in := `{"gender":"male","meta":{"tag":[{"code":"t"}],"versionId":"7"},"resourceType":"Patient","id":"client"}`
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 2, 3, 4, 5, 6, 789000, time.FixedZone("X", 3600))
	if err := o.Stamp("srv", 3, at); err != nil {
		t.Fatal(err)
	}
	got := string(o.Bytes())
	want := `{"resourceType":"Patient","id":"srv","meta":{"versionId":"3","lastUpdated":"2024-02-03T03:05:06.000789Z","tag":[{"code":"t"}]},"gender":"male"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestBytesKeepsNumbersAndUnicode(t *testing.T) {
	in := `{"resourceType":"Observation","valueQuantity":{"value":1.000000000000000000001},"note":[{"text":"naïve \u2028 \"q\""}]}`
	o, err := ParseObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out := o.Bytes()
	if !strings.Contains(string(out), "1.000000000000000000001") {
		t.Fatalf("decimal precision lost: %s", out)
	}
	var a, b any
	if json.Unmarshal([]byte(in), &a) != nil || json.Unmarshal(out, &b) != nil {
		t.Fatal("not JSON")
	}
	if ja, _ := json.Marshal(a); string(ja) != func() string { jb, _ := json.Marshal(b); return string(jb) }() {
		t.Fatalf("content changed: %s", out)
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"resourceType":"Patient","id":"x"}`, `{"a":[1,{"b":null}]}`, `{"a":1,"a":2}`, `[`, `{"meta":{"tag":[]}}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte(` { "a" : [ 1 , "x\\\"]}" , {"b":{}} ] , "\u00e9t\u00e9" : -1.5e3 , "c":"\ud800" } `))
	f.Add([]byte(`{"a":1} {"b":2}`))
	f.Add([]byte(`{"a":1,}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := ParseObject(in)
		// The one-pass parse answers as the token decoder does.
		slow, slowErr := parseObjectByTokens(in)
		if (err == nil) != (slowErr == nil) || err != nil && err.Error() != slowErr.Error() {
			t.Fatalf("ParseObject(%q): %v; by tokens: %v", in, err, slowErr)
		}
		if err != nil {
			return
		}
		if !slices.Equal(o.keys, slow.keys) {
			t.Fatalf("ParseObject(%q) keys %q; by tokens %q", in, o.keys, slow.keys)
		}
		for _, k := range o.keys {
			if !bytes.Equal(o.vals[k], slow.vals[k]) {
				t.Fatalf("ParseObject(%q)[%q] = %q; by tokens %q", in, k, o.vals[k], slow.vals[k])
			}
		}
		if o.Stamp("id", 1, time.Unix(0, 0)) != nil {
			return
		}
		out := o.Bytes()
		if !json.Valid(out) {
			t.Fatalf("Bytes produced invalid JSON from %q: %q", in, out)
		}
		// As encoding/json writes it: names marshalled, values compacted.
		var want bytes.Buffer
		want.WriteByte('{')
		for i, k := range append([]string{"resourceType", "id", "meta"}, o.Keys()...) {
			if (i >= 3 && (k == "resourceType" || k == "id" || k == "meta")) || o.Get(k) == nil {
				continue
			}
			if want.Len() > 1 {
				want.WriteByte(',')
			}
			name, _ := json.Marshal(k)
			want.Write(name)
			want.WriteByte(':')
			if json.Compact(&want, o.Get(k)) != nil {
				t.Fatalf("member %q of %q is not JSON", k, in)
			}
		}
		want.WriteByte('}')
		if !bytes.Equal(out, want.Bytes()) {
			t.Fatalf("Bytes of %q:\n%s\nencoding/json:\n%s", in, out, want.Bytes())
		}
		again, err := ParseObject(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if id, _ := again.String("id"); id != "id" {
			t.Fatalf("id lost: %q", out)
		}
	})
}

// Object and Objects split what ParseObject of the member's value gives,
// and refuse what is not an object (an array of them).
func FuzzObjects(f *testing.F) {
	f.Add([]byte(`{"entry":[{"fullUrl":"u","resource":{"a":[1,{"b":"]}"}]}},{}],"one":{"x":null}}`))
	f.Add([]byte(`{"entry":[1,{"a":1}],"one":[{}]}`))
	f.Add([]byte(`{"entry":null,"one":"s"}`))
	f.Add([]byte(`{"entry":[{"a":1,"a":2}],"one":{"k":{"k":[]}}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := ParseObject(in)
		if err != nil {
			return
		}
		var els []json.RawMessage
		arrayErr := json.Unmarshal(o.Get("entry"), &els)
		got, err := o.Objects("entry")
		raw := o.Get("entry")
		switch {
		case raw == nil || string(raw) == "null":
			if got != nil || err != nil {
				t.Fatalf("%q: absent entry gave %v, %v", in, got, err)
			}
		case arrayErr != nil:
			if err == nil {
				t.Fatalf("%q: entry is not an array, but Objects took it", in)
			}
		default:
			var want []*Object
			var wantErr error
			for _, el := range els {
				if el[0] != '{' {
					wantErr = errInvalid("entry", "not an object")
					break
				}
				eo, err := ParseObject(el)
				if err != nil {
					wantErr = err
					break
				}
				want = append(want, eo)
			}
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("%q: Objects err %v, by ParseObject %v", in, err, wantErr)
			}
			if err == nil {
				if len(got) != len(want) {
					t.Fatalf("%q: %d objects, want %d", in, len(got), len(want))
				}
				for i := range got {
					if !slices.Equal(got[i].keys, want[i].keys) || !bytes.Equal(got[i].render(got[i].keys), want[i].render(want[i].keys)) {
						t.Fatalf("%q: object %d differs", in, i)
					}
				}
			}
		}
		one, err := o.Object("one")
		if raw := o.Get("one"); raw == nil || string(raw) == "null" {
			if one != nil || err != nil {
				t.Fatalf("%q: absent one gave %v, %v", in, one, err)
			}
			return
		}
		want, wantErr := ParseObject(o.Get("one"))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: Object err %v, ParseObject %v", in, err, wantErr)
		}
		if err == nil && !bytes.Equal(one.render(one.keys), want.render(want.keys)) {
			t.Fatalf("%q: Object differs from ParseObject", in)
		}
	})
}
