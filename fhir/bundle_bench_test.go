package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkSearchBundle assembles a searchset page of 20 Communications
// the way a search answers: links, then the stored bodies byte for byte.
func BenchmarkSearchBundle(b *testing.B) {
	pretty, err := os.ReadFile("testdata/examples/Communication-example.json")
	if err != nil {
		b.Fatal(err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, pretty); err != nil {
		b.Fatal(err)
	}
	const base = "https://fhir.example.org/fhir"
	const link = base + "/Communication?status=completed&_sort=-_lastUpdated&_count=20"
	page := func() []byte {
		w := NewBundle("searchset", 50000)
		w.Grow(20 * (body.Len() + 400)) // as the server sizes a page
		w.Link("self", link)
		w.Link("next", link+"&_cursor=AbCdEf0123456789")
		for range 20 {
			w.Entry(BundleEntry{FullURL: base + "/Communication/01a20828-805d-73f5-81c6-3e554e325bb7",
				Resource: body.Bytes(), Search: &BundleSearch{Mode: "match"}})
		}
		return w.Bytes()
	}
	if !json.Valid(page()) {
		b.Fatal("invalid Bundle")
	}
	b.ReportAllocs()
	b.SetBytes(int64(20 * body.Len()))
	for b.Loop() {
		page()
	}
}
