package server

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// history handles _history at system, type and instance level.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	req, err := historyRequest(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	page, err := s.engine.History(r.Context(), principal(r), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, s.historyBundle(r, req, page))
}

func historyRequest(r *http.Request) (engine.HistoryRequest, error) {
	q := r.URL.Query()
	req := engine.HistoryRequest{Type: chi.URLParam(r, "type"), ID: chi.URLParam(r, "id")}
	if v := q.Get("_count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return req, fhir.Errorf(fhir.KindInvalid, "_count must be a non-negative integer").At("_count")
		}
		req.Count = n
	}
	if v := q.Get("_since"); v != "" {
		t, err := parseInstant(v)
		if err != nil {
			return req, fhir.Errorf(fhir.KindInvalid, "_since must be an instant such as 2024-01-02T03:04:05Z").At("_since")
		}
		req.Since = t
	}
	if v := q.Get("_cursor"); v != "" {
		c, err := strconv.ParseInt(v, 10, 64)
		if err != nil || c < 0 {
			return req, fhir.Errorf(fhir.KindInvalid, "_cursor is not one this server issued").At("_cursor")
		}
		req.Cursor = c
	}
	return req, nil
}

// parseInstant accepts a FHIR instant, dateTime or date (midnight UTC).
func parseInstant(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fhir.Errorf(fhir.KindInvalid, "not an instant")
}

// historyBundle renders a page as a history Bundle; stored resources are
// copied in byte for byte.
func (s *Server) historyBundle(r *http.Request, req engine.HistoryRequest, page store.HistoryPage) []byte {
	base := s.base(r)
	self := base + historyPath(req)
	b := fhir.NewBundle("history", -1)
	b.Grow(entriesSize(base, page.Records))
	if r.URL.RawQuery != "" {
		b.Link("self", self+"?"+r.URL.RawQuery)
	} else {
		b.Link("self", self)
	}
	if page.Next != 0 {
		q := url.Values{}
		for k, v := range r.URL.Query() {
			q[k] = v
		}
		q.Set("_cursor", strconv.FormatInt(page.Next, 10))
		b.Link("next", self+"?"+q.Encode())
	}
	for _, rec := range page.Records {
		b.Entry(historyEntry(base, rec))
	}
	return b.Bytes()
}

func historyPath(req engine.HistoryRequest) string {
	switch {
	case req.Type == "":
		return "/_history"
	case req.ID == "":
		return "/" + req.Type + "/_history"
	default:
		return "/" + req.Type + "/" + req.ID + "/_history"
	}
}

func historyEntry(base string, rec store.Record) fhir.BundleEntry {
	ref := rec.Type + "/" + rec.ID
	e := fhir.BundleEntry{
		FullURL:  base + "/" + ref,
		Request:  &fhir.BundleRequest{Method: "PUT", URL: ref},
		Response: &fhir.BundleResponse{Status: "200 OK", Etag: etag(rec.Version), LastModified: fhir.FormatInstant(rec.LastUpdated)},
	}
	switch {
	case rec.Deleted:
		e.Request.Method = "DELETE"
		e.Response.Status = "204 No Content"
	case rec.Version == 1:
		e.Request = &fhir.BundleRequest{Method: "POST", URL: rec.Type}
		e.Response.Status = "201 Created"
	}
	if !rec.Deleted {
		e.Resource = rec.Body
	}
	return e
}
