package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// conditionalUpdate handles PUT /fhir/{type}?criteria.
func (s *Server) conditionalUpdate(w http.ResponseWriter, r *http.Request) {
	opt, body, ok := s.writeRequest(w, r, resourceMedia...)
	if !ok {
		return
	}
	res, err := s.engine.ConditionalUpdate(r.Context(), principal(r), chi.URLParam(r, "type"), r.URL.RawQuery, body, opt)
	s.answerUpdate(w, r, res, err)
}

// conditionalDelete handles DELETE /fhir/{type}?criteria: 204 whether one
// resource was deleted or none matched.
func (s *Server) conditionalDelete(w http.ResponseWriter, r *http.Request) {
	res, err := s.engine.ConditionalDelete(r.Context(), principal(r), chi.URLParam(r, "type"), r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Record.Version > 0 {
		w.Header().Set("ETag", etag(res.Record.Version))
	}
	w.WriteHeader(http.StatusNoContent)
}
