package server

import (
	"context"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

type principalKey struct{}

// principal returns the caller that authenticate stored in the context.
func principal(r *http.Request) engine.Principal {
	p, _ := r.Context().Value(principalKey{}).(engine.Principal)
	return p
}

// authenticate requires a valid bearer token: closed by default.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hearth"`)
			s.writeJSON(w, r, http.StatusUnauthorized, fhir.OutcomeFor(
				fhir.Errorf(fhir.KindUnauthorized, "a bearer token is required")).JSON())
			return
		}
		p, err := s.authn.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			s.writeError(w, r, &fhir.Error{Kind: fhir.KindUnauthorized, Message: "invalid token", Cause: err})
			return
		}
		p.Address = clientAddress(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// limitBody caps request bodies; reading past the cap fails with 413.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			s.writeError(w, r, fhir.Errorf(fhir.KindTooLarge, "body is larger than %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// statusRecorder remembers the status a handler wrote, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	sr.status = code
	sr.ResponseWriter.WriteHeader(code)
}

// logRequests logs method, path, status, duration and the names of query
// parameters, never their values or bodies: those can hold PHI.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if s.cfg.Observer != nil {
			s.cfg.Observer.ObserveRequest(interactionOf(r), rec.status, time.Since(start))
		}
		names := make([]string, 0, len(r.URL.Query()))
		for k := range r.URL.Query() {
			names = append(names, k)
		}
		sort.Strings(names)
		s.log.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
			"params", names, "status", rec.status, "duration", time.Since(start))
	})
}

// recoverPanics turns a handler panic into a 500 OperationOutcome.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "path", r.URL.Path, "panic", v)
				s.writeJSON(w, r, http.StatusInternalServerError, fhir.OutcomeFor(nil).JSON())
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// clientAddress is the network address the request came from, for access
// policy and the audit log. Forwarding headers are not trusted.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
