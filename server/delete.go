package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
)

// delete handles DELETE /fhir/{type}/{id}: 204, also for a resource that is
// already gone or never existed (the specification allows either).
func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	ifMatch, err := parseETag(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.engine.Delete(r.Context(), principal(r), chi.URLParam(r, "type"), chi.URLParam(r, "id"),
		engine.UpdateOptions{IfMatch: ifMatch})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Record.Version > 0 {
		w.Header().Set("ETag", etag(res.Record.Version))
	}
	w.WriteHeader(http.StatusNoContent)
}
