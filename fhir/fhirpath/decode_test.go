package fhirpath

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-fhir/hearth/fhir"
)

// referenceDecode is what Decode must agree with: encoding/json's
// Decoder with UseNumber, on input that json.Valid accepts whole.
func referenceDecode(data []byte) (any, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// checkDecode fails t unless Decode accepts exactly what the reference
// accepts and returns the same value, or fails as a *fhir.Error of kind
// invalid.
func checkDecode(t *testing.T, data []byte) {
	t.Helper()
	want, ok := referenceDecode(data)
	got, err := Decode(data)
	if !ok {
		if err == nil {
			t.Fatalf("Decode(%q) = %#v, want an error", data, got)
		}
		if !fhir.IsKind(err, fhir.KindInvalid) {
			t.Fatalf("Decode(%q): %v is not a KindInvalid *fhir.Error", data, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode(%q): %v, want %#v", data, err, want)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%q) = %#v, want %#v", data, got, want)
	}
}

var decodeCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.50`, `1E+2`, `true`, `false`, `null`,
	` {"a" : [ 1 , "x" , null , true , { } ] } `,
	`{"a":1,"a":2}`, // the last of repeated names wins
	`{"s":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"}`, // escapes
	`{"s":"\ud800"}`, `"\ud800\u0041"`, `"\udc00\ud800x"`, // half a pair becomes U+FFFD
	"\"\xed\xa0\x80\"",     // so does a surrogate in UTF-8
	"{\"s\":\"\xff\xfe\"}", // invalid UTF-8 becomes U+FFFD
	"{\"\xc3\xa9\":\"é\"}", // UTF-8 in names and values
	"\"a\x7fb\"",           // DEL is allowed
	// Rejected:
	``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1 2]`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`,
	`"a\'b"`, `+1`, `NaN`, `tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `"\`, "\"a\x01b\"", "\"a\nb\"",
	`{} {}`, `[1] x`, `{"a":1}}`, `'a'`,
}

func TestDecode(t *testing.T) {
	for _, c := range decodeCases {
		checkDecode(t, []byte(c))
	}
	// encoding/json's nesting limit, on both sides of it.
	checkDecode(t, []byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000)))
	checkDecode(t, []byte(strings.Repeat("[", 10001)+strings.Repeat("]", 10001)))
	checkDecode(t, []byte(strings.Repeat(`{"a":`, 10001)+"1"+strings.Repeat("}", 10001)))
	for _, path := range suiteJSON(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, data)
	}
}

// FuzzDecode holds Decode to encoding/json: the same inputs accepted,
// the same values returned.
func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	for _, path := range suiteJSON(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkDecode(t, data)
	})
}

// suiteJSON lists the official examples the FHIRPath suite runs on.
func suiteJSON(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("testdata/suite/*.json")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no suite examples: %v", err)
	}
	return paths
}

// BenchmarkDecode decodes the official Communication example (see
// BenchmarkEval) and an Observation, as index extraction does for every
// write; "encoding-json" is the Decoder Decode replaced.
func BenchmarkDecode(b *testing.B) {
	obs, err := os.ReadFile("testdata/suite/observation-example.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, obs); err != nil {
		b.Fatal(err)
	}
	for _, doc := range []struct {
		name string
		data []byte
	}{{"Communication", []byte(communication)}, {"Observation", compact.Bytes()}} {
		b.Run(doc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc.data)))
			for b.Loop() {
				if _, err := Decode(doc.data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(doc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(doc.data)))
			for b.Loop() {
				dec := json.NewDecoder(bytes.NewReader(doc.data))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
