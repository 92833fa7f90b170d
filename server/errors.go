package server

import (
	"errors"
	"net/http"

	"github.com/hearth-fhir/hearth/fhir"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[fhir.Kind]int{
	fhir.KindInternal:           http.StatusInternalServerError,
	fhir.KindInvalid:            http.StatusBadRequest,
	fhir.KindNotFound:           http.StatusNotFound,
	fhir.KindGone:               http.StatusGone,
	fhir.KindConflict:           http.StatusConflict,
	fhir.KindForbidden:          http.StatusForbidden,
	fhir.KindUnauthorized:       http.StatusUnauthorized,
	fhir.KindNotSupported:       http.StatusNotImplemented,
	fhir.KindTooLarge:           http.StatusRequestEntityTooLarge,
	fhir.KindUnavailable:        http.StatusServiceUnavailable,
	fhir.KindPreconditionFailed: http.StatusPreconditionFailed,
	fhir.KindUnprocessable:      http.StatusUnprocessableEntity,
	fhir.KindMethodNotAllowed:   http.StatusMethodNotAllowed,
	fhir.KindUnsupportedMedia:   http.StatusUnsupportedMediaType,
	fhir.KindNotAcceptable:      http.StatusNotAcceptable,
}

// writeError answers with an OperationOutcome. Internal errors are logged
// with their cause and answered with a generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := fhir.KindOf(err)
	status, ok := statusOf[kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	if kind == fhir.KindInternal {
		// The cause can hold driver text but never request values: storage
		// errors wrap their own messages, not PHI.
		s.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		status = http.StatusRequestEntityTooLarge
		err = fhir.Errorf(fhir.KindTooLarge, "body is larger than %d bytes", maxErr.Limit)
	}
	if kind == fhir.KindUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hearth", error="invalid_token"`)
	}
	s.writeJSON(w, r, status, fhir.OutcomeFor(err).JSON())
}

// fail is a handler that answers with an error.
func (s *Server) fail(err error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.writeError(w, r, err) }
}
