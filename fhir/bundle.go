package fhir

import (
	"bytes"
	"encoding/json"
)

// BundleRequest is Bundle.entry.request.
type BundleRequest struct {
	Method string `json:"method"`
	URL    string `json:"url"`
}

// BundleResponse is Bundle.entry.response.
type BundleResponse struct {
	Status       string          `json:"status"`
	Location     string          `json:"location,omitempty"`
	Etag         string          `json:"etag,omitempty"`
	LastModified string          `json:"lastModified,omitempty"`
	Outcome      json.RawMessage `json:"outcome,omitempty"`
}

// BundleSearch is Bundle.entry.search: why an entry is in a searchset
// (match, include or outcome). BundleWriter.Entry writes its members by
// hand, so a member added here must be added there.
type BundleSearch struct {
	Mode string `json:"mode"`
}

// BundleEntry is one entry; Resource is raw JSON written as is.
type BundleEntry struct {
	FullURL  string
	Resource []byte
	Search   *BundleSearch
	Request  *BundleRequest
	Response *BundleResponse
}

// BundleWriter assembles a Bundle without re-encoding the resources it
// carries: stored JSON goes into the output byte for byte.
type BundleWriter struct {
	buf     bytes.Buffer
	entries int
	links   int
	closed  bool
}

// NewBundle starts a Bundle of the given type (history, searchset …). total
// is written when it is not negative.
func NewBundle(typ string, total int) *BundleWriter {
	b := &BundleWriter{}
	b.buf.WriteString(`{"resourceType":"Bundle","type":`)
	writeJSONValue(&b.buf, typ)
	if total >= 0 {
		b.buf.WriteString(`,"total":`)
		writeJSONValue(&b.buf, total)
	}
	return b
}

// Grow makes room for n more bytes, so that a Bundle whose size the
// caller can tell (the bodies it carries) is written without copying.
func (b *BundleWriter) Grow(n int) {
	b.buf.Grow(n)
}

// Link adds a Bundle.link. All links must come before the first entry.
func (b *BundleWriter) Link(relation, url string) {
	if b.links == 0 {
		b.buf.WriteString(`,"link":[`)
	} else {
		b.buf.WriteByte(',')
	}
	b.links++
	b.buf.WriteString(`{"relation":`)
	writeJSONValue(&b.buf, relation)
	b.buf.WriteString(`,"url":`)
	writeJSONValue(&b.buf, url)
	b.buf.WriteByte('}')
}

// Entry adds a Bundle.entry.
func (b *BundleWriter) Entry(e BundleEntry) {
	if b.entries == 0 {
		if b.links > 0 {
			b.buf.WriteByte(']')
		}
		b.buf.WriteString(`,"entry":[`)
	} else {
		b.buf.WriteByte(',')
	}
	b.entries++
	b.buf.WriteByte('{')
	sep := ""
	if e.FullURL != "" {
		b.buf.WriteString(`"fullUrl":`)
		writeJSONString(&b.buf, e.FullURL)
		sep = ","
	}
	if e.Resource != nil {
		b.buf.WriteString(sep + `"resource":`)
		b.buf.Write(e.Resource)
		sep = ","
	}
	if e.Search != nil {
		// BundleSearch's one member, without encoding/json's reflection
		// for every entry of a page.
		b.buf.WriteString(sep + `"search":{"mode":`)
		writeJSONString(&b.buf, e.Search.Mode)
		b.buf.WriteByte('}')
		sep = ","
	}
	if e.Request != nil {
		b.buf.WriteString(sep + `"request":`)
		writeJSONValue(&b.buf, e.Request)
		sep = ","
	}
	if e.Response != nil {
		b.buf.WriteString(sep + `"response":`)
		writeJSONValue(&b.buf, e.Response)
	}
	b.buf.WriteByte('}')
}

// Bytes closes the Bundle and returns it.
func (b *BundleWriter) Bytes() []byte {
	if !b.closed {
		if b.entries > 0 || b.links > 0 {
			b.buf.WriteByte(']')
		}
		b.buf.WriteByte('}')
		b.closed = true
	}
	return b.buf.Bytes()
}

// writeJSONString writes s as json.Marshal would: printable ASCII that
// needs no escape (URLs and ids, mostly) as it is, anything else through
// encoding/json.
func writeJSONString(buf *bytes.Buffer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			writeJSONValue(buf, s)
			return
		}
	}
	buf.WriteByte('"')
	buf.WriteString(s)
	buf.WriteByte('"')
}

func writeJSONValue(buf *bytes.Buffer, v any) {
	enc, _ := json.Marshal(v)
	buf.Write(enc)
}
