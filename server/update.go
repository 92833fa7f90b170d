package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
)

// update handles PUT /fhir/{type}/{id}, with If-Match for optimistic locking.
func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	opt, body, ok := s.writeRequest(w, r, resourceMedia...)
	if !ok {
		return
	}
	res, err := s.engine.Update(r.Context(), principal(r), chi.URLParam(r, "type"), chi.URLParam(r, "id"), body, opt)
	s.answerUpdate(w, r, res, err)
}

// patch handles PATCH /fhir/{type}/{id} with a JSON Patch body.
func (s *Server) patch(w http.ResponseWriter, r *http.Request) {
	opt, body, ok := s.writeRequest(w, r, "application/json-patch+json")
	if !ok {
		return
	}
	res, err := s.engine.Patch(r.Context(), principal(r), chi.URLParam(r, "type"), chi.URLParam(r, "id"), body, opt)
	s.answerUpdate(w, r, res, err)
}

// writeRequest reads what update and patch share: negotiation, If-Match and
// the body. It answers the error itself and reports ok=false.
func (s *Server) writeRequest(w http.ResponseWriter, r *http.Request, media ...string) (engine.UpdateOptions, []byte, bool) {
	ifMatch, err := parseETag(r.Header.Get("If-Match"))
	if err != nil {
		s.writeError(w, r, err)
		return engine.UpdateOptions{}, nil, false
	}
	body, ok := s.negotiatedBody(w, r, media...)
	return engine.UpdateOptions{IfMatch: ifMatch}, body, ok
}

func (s *Server) answerUpdate(w http.ResponseWriter, r *http.Request, res engine.Result, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.Created {
		s.writeWrite(w, r, http.StatusCreated, res, "created")
		return
	}
	s.writeWrite(w, r, http.StatusOK, res, "updated")
}
