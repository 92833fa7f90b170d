package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// entryRequest is Bundle.entry.request.
type entryRequest struct {
	Method          string `json:"method"`
	URL             string `json:"url"`
	IfNoneExist     string `json:"ifNoneExist"`
	IfMatch         string `json:"ifMatch"`
	IfNoneMatch     string `json:"ifNoneMatch"`
	IfModifiedSince string `json:"ifModifiedSince"`
}

// bundle handles POST /fhir (and /fhir/): a batch or transaction Bundle.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	body, ok := s.negotiatedBody(w, r, resourceMedia...)
	if !ok {
		return
	}
	typ, entries, err := readBundle(body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var results []engine.EntryResult
	switch typ {
	case "transaction":
		results, err = s.engine.Transaction(r.Context(), principal(r), entries)
	case "batch":
		results, err = s.engine.Batch(r.Context(), principal(r), entries)
	default:
		err = fhir.Errorf(fhir.KindInvalid, "Bundle.type must be transaction or batch, not %q", typ).At("Bundle.type")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.bundleResponse(r, typ+"-response", results))
}

// readBundle reads a batch or transaction Bundle's type and entries. The
// Bundle is parsed once (fhir.ParseObject, which validates and compacts
// it), and each entry's resource is handed on parsed, so that an import
// does not go over its JSON again.
func readBundle(body []byte) (string, []engine.BundleEntry, error) {
	notBundle := fhir.Errorf(fhir.KindInvalid, "body is not a Bundle")
	b, err := fhir.ParseObject(body)
	if err != nil {
		return "", nil, notBundle
	}
	if rt, _ := b.String("resourceType"); rt != "Bundle" {
		return "", nil, fhir.Errorf(fhir.KindInvalid, "POST to the base takes a Bundle, not %q", rt).At("resourceType")
	}
	typ, _ := b.String("type")
	els, err := b.Objects("entry")
	if err != nil {
		return "", nil, notBundle
	}
	entries := make([]engine.BundleEntry, len(els))
	for i, el := range els {
		var req entryRequest
		if raw := el.Get("request"); raw != nil && json.Unmarshal(raw, &req) != nil {
			return "", nil, notBundle
		}
		if req.Method == "" || req.URL == "" {
			return "", nil, fhir.Errorf(fhir.KindInvalid, "entry %d has no request method and url", i).
				At("Bundle.entry[" + strconv.Itoa(i) + "].request")
		}
		fullURL, ok := el.String("fullUrl")
		if !ok && el.Get("fullUrl") != nil {
			return "", nil, notBundle
		}
		en := engine.BundleEntry{
			FullURL: fullURL, Method: req.Method, URL: req.URL,
			IfNoneExist: req.IfNoneExist, IfMatch: req.IfMatch,
			IfNoneMatch: req.IfNoneMatch, IfModifiedSince: req.IfModifiedSince,
		}
		if raw := el.Get("resource"); raw != nil && string(raw) != "null" {
			// A resource that is not an object is the engine's to refuse.
			en.Resource = raw
			en.Parsed, _ = el.Object("resource")
		}
		entries[i] = en
	}
	return typ, entries, nil
}

// bundleResponse renders each entry's outcome in Bundle order, with the
// resource or an OperationOutcome per the Prefer header.
func (s *Server) bundleResponse(r *http.Request, typ string, results []engine.EntryResult) []byte {
	out := fhir.NewBundle(typ, -1)
	prefer := preferReturn(r)
	for _, res := range results {
		resp := s.entryResponse(r, res)
		entry := fhir.BundleEntry{Response: resp}
		switch {
		case res.Err != nil:
			entry.Response.Outcome = fhir.OutcomeFor(res.Err).JSON()
		case prefer == "OperationOutcome":
			entry.Response.Outcome = fhir.NewOutcome(fhir.Issue{Severity: "information", Code: "informational",
				Diagnostics: resp.Status}).JSON()
		case res.Search != nil && res.Method != http.MethodHead:
			// A search entry's resource is its searchset, whatever Prefer says.
			entry.Resource = s.searchBundle(r, res.Search.Request, res.Search.Result)
		case prefer != "minimal" && res.Method != http.MethodDelete && res.Method != http.MethodHead &&
			!res.NotModified && res.Record.Body != nil:
			entry.Resource = res.Record.Body
		}
		if rec := res.Record; res.Err == nil && rec.ID != "" {
			entry.FullURL = s.base(r) + "/" + rec.Type + "/" + rec.ID
		}
		out.Entry(entry)
	}
	return out.Bytes()
}

// entryResponse is Bundle.entry.response for one result.
func (s *Server) entryResponse(r *http.Request, res engine.EntryResult) *fhir.BundleResponse {
	status := http.StatusOK
	switch {
	case res.Err != nil:
		status = statusOf[fhir.KindOf(res.Err)]
		if status == 0 {
			status = http.StatusInternalServerError
		}
	case res.NotModified:
		status = http.StatusNotModified
	case res.Method == http.MethodDelete:
		status = http.StatusNoContent
	case res.Created:
		status = http.StatusCreated
	}
	resp := &fhir.BundleResponse{Status: strconv.Itoa(status) + " " + http.StatusText(status)}
	if rec := res.Record; res.Err == nil && rec.Version > 0 {
		resp.Etag = etag(rec.Version)
		resp.LastModified = fhir.FormatInstant(rec.LastUpdated)
		if res.Created || (res.Method == http.MethodPut || res.Method == http.MethodPatch || res.Method == http.MethodPost) {
			resp.Location = s.location(r, rec)
		}
	}
	return resp
}
