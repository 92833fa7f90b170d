package server

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// bundleRequest is the part of a batch or transaction Bundle the server reads.
type bundleRequest struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		FullURL  string          `json:"fullUrl"`
		Resource json.RawMessage `json:"resource"`
		Request  *struct {
			Method          string `json:"method"`
			URL             string `json:"url"`
			IfNoneExist     string `json:"ifNoneExist"`
			IfMatch         string `json:"ifMatch"`
			IfNoneMatch     string `json:"ifNoneMatch"`
			IfModifiedSince string `json:"ifModifiedSince"`
		} `json:"request"`
	} `json:"entry"`
}

// bundle handles POST /fhir (and /fhir/): a batch or transaction Bundle.
func (s *Server) bundle(w http.ResponseWriter, r *http.Request) {
	body, ok := s.negotiatedBody(w, r, resourceMedia...)
	if !ok {
		return
	}
	var b bundleRequest
	if err := json.Unmarshal(body, &b); err != nil {
		s.writeError(w, r, fhir.Errorf(fhir.KindInvalid, "body is not a Bundle"))
		return
	}
	if b.ResourceType != "Bundle" {
		s.writeError(w, r, fhir.Errorf(fhir.KindInvalid, "POST to the base takes a Bundle, not %q", b.ResourceType).At("resourceType"))
		return
	}
	entries := make([]engine.BundleEntry, len(b.Entry))
	for i, e := range b.Entry {
		if e.Request == nil || e.Request.Method == "" || e.Request.URL == "" {
			s.writeError(w, r, fhir.Errorf(fhir.KindInvalid, "entry %d has no request method and url", i).
				At("Bundle.entry["+strconv.Itoa(i)+"].request"))
			return
		}
		entries[i] = engine.BundleEntry{
			FullURL: e.FullURL, Method: e.Request.Method, URL: e.Request.URL, Resource: e.Resource,
			IfNoneExist: e.Request.IfNoneExist, IfMatch: e.Request.IfMatch,
			IfNoneMatch: e.Request.IfNoneMatch, IfModifiedSince: e.Request.IfModifiedSince,
		}
	}
	var (
		results []engine.EntryResult
		err     error
	)
	switch b.Type {
	case "transaction":
		results, err = s.engine.Transaction(r.Context(), principal(r), entries)
	case "batch":
		results, err = s.engine.Batch(r.Context(), principal(r), entries)
	default:
		err = fhir.Errorf(fhir.KindInvalid, "Bundle.type must be transaction or batch, not %q", b.Type).At("Bundle.type")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.bundleResponse(r, b.Type+"-response", results))
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
