package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// base returns the FHIR base URL for links and Locations.
func (s *Server) base(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL + "/fhir"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/fhir"
}

// etag renders a version as a weak ETag.
func etag(version int64) string { return fhir.VersionETag(version) }

// parseETag reads If-Match; empty means none.
func parseETag(h string) (int64, error) { return fhir.ParseVersionETag(h) }

// versionHeaders sets ETag and Last-Modified for a record.
func versionHeaders(w http.ResponseWriter, rec store.Record) {
	w.Header().Set("ETag", etag(rec.Version))
	w.Header().Set("Last-Modified", rec.LastUpdated.UTC().Format(http.TimeFormat))
}

// location is the version-specific URL of a record.
func (s *Server) location(r *http.Request, rec store.Record) string {
	return s.base(r) + "/" + rec.Type + "/" + rec.ID + "/_history/" + strconv.FormatInt(rec.Version, 10)
}

// writeResource answers a read: the stored bytes as they are.
func (s *Server) writeResource(w http.ResponseWriter, r *http.Request, status int, rec store.Record) {
	versionHeaders(w, rec)
	s.writeJSON(w, r, status, rec.Body)
}

// writeWrite answers a write per the Prefer header: the resource (default),
// nothing (return=minimal), or an OperationOutcome saying what happened.
func (s *Server) writeWrite(w http.ResponseWriter, r *http.Request, status int, res engine.Result, what string) {
	rec := res.Record
	versionHeaders(w, rec)
	if status == http.StatusCreated || res.Created {
		w.Header().Set("Location", s.location(r, rec))
	}
	switch preferReturn(r) {
	case "minimal":
		w.WriteHeader(status)
	case "OperationOutcome":
		oo := fhir.NewOutcome(fhir.Issue{Severity: "information", Code: "informational",
			Diagnostics: rec.Type + "/" + rec.ID + " version " + strconv.FormatInt(rec.Version, 10) + " " + what})
		s.writeJSON(w, r, status, oo.JSON())
	default:
		s.writeJSON(w, r, status, rec.Body)
	}
}

// preferReturn reads return=… from the Prefer header.
func preferReturn(r *http.Request) string {
	for _, h := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(h, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(part), "return="); ok {
				return strings.Trim(v, `"`)
			}
		}
	}
	return "representation"
}
