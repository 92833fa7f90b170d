package server

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/fhir"
)

// read handles GET /fhir/{type}/{id}.
func (s *Server) read(w http.ResponseWriter, r *http.Request) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.engine.Read(r.Context(), principal(r), chi.URLParam(r, "type"), chi.URLParam(r, "id"))
	if err != nil {
		if fhir.IsKind(err, fhir.KindGone) && res.Record.Version > 0 {
			versionHeaders(w, res.Record)
		}
		s.writeError(w, r, err)
		return
	}
	s.writeResource(w, r, http.StatusOK, res.Record)
}

// vread handles GET /fhir/{type}/{id}/_history/{vid}.
func (s *Server) vread(w http.ResponseWriter, r *http.Request) {
	if err := negotiate(r); err != nil {
		s.writeError(w, r, err)
		return
	}
	vid, err := strconv.ParseInt(chi.URLParam(r, "vid"), 10, 64)
	if err != nil {
		s.writeError(w, r, fhir.Errorf(fhir.KindNotFound, "%q is not a version id", chi.URLParam(r, "vid")))
		return
	}
	res, err := s.engine.VRead(r.Context(), principal(r), chi.URLParam(r, "type"), chi.URLParam(r, "id"), vid)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeResource(w, r, http.StatusOK, res.Record)
}
