package fhir

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzWriteJSONString holds the Bundle writer's string fast path to
// json.Marshal's output, byte for byte.
func FuzzWriteJSONString(f *testing.F) {
	for _, s := range []string{"", "https://fhir.example.org/fhir/Patient/1", "match", `a"b`, `a\b`,
		"a<b>&c", "x&y", "tab\there", "caf\u00e9", "\u2028", "\xff", "del\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got bytes.Buffer
		writeJSONString(&got, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("writeJSONString(%q) = %s, want %s", s, got.Bytes(), want)
		}
	})
}

// TestBundleWriterSearch checks the hand-written search member: what a
// page's entries say is what encoding/json said for BundleSearch.
func TestBundleWriterSearch(t *testing.T) {
	w := NewBundle("searchset", 2)
	w.Grow(1024)
	w.Link("self", "https://h/fhir/Patient?name=a&_count=1")
	w.Entry(BundleEntry{FullURL: "https://h/fhir/Patient/1", Resource: []byte(`{"resourceType":"Patient","id":"1"}`),
		Search: &BundleSearch{Mode: "match"}})
	w.Entry(BundleEntry{FullURL: "https://h/fhir/Organization/o", Resource: []byte(`{"resourceType":"Organization","id":"o"}`),
		Search: &BundleSearch{Mode: "include"}})
	var got struct {
		Link []struct {
			Relation, URL string
		}
		Entry []struct {
			FullURL  string          `json:"fullUrl"`
			Resource json.RawMessage `json:"resource"`
			Search   json.RawMessage `json:"search"`
		}
	}
	if err := json.Unmarshal(w.Bytes(), &got); err != nil {
		t.Fatalf("%s: %v", w.Bytes(), err)
	}
	if len(got.Link) != 1 || got.Link[0].URL != "https://h/fhir/Patient?name=a&_count=1" {
		t.Errorf("links = %+v", got.Link)
	}
	if len(got.Entry) != 2 {
		t.Fatalf("entries = %+v", got.Entry)
	}
	for i, mode := range []string{"match", "include"} {
		want, _ := json.Marshal(&BundleSearch{Mode: mode})
		if e := got.Entry[i]; string(e.Search) != string(want) || e.FullURL == "" || len(e.Resource) == 0 {
			t.Errorf("entry %d = fullUrl %q, search %s (want %s)", i, e.FullURL, e.Search, want)
		}
	}
}
