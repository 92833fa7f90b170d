package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
)

// create handles POST /fhir/{type}, with If-None-Exist for conditional create.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	body, ok := s.negotiatedBody(w, r, resourceMedia...)
	if !ok {
		return
	}
	opt := engine.CreateOptions{IfNoneExist: r.Header.Get("If-None-Exist")}
	res, err := s.engine.Create(r.Context(), principal(r), chi.URLParam(r, "type"), body, opt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if res.NoOp {
		s.writeWrite(w, r, http.StatusOK, res, "already exists")
		return
	}
	s.writeWrite(w, r, http.StatusCreated, res, "created")
}
