// Package server maps FHIR's RESTful HTTP API onto engine calls: routing,
// content negotiation, headers, and errors as OperationOutcomes. It holds no
// business rules; every interaction goes through engine.Engine.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// Authenticator turns a bearer token into the principal it stands for. Any
// failure is a KindUnauthorized error.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (engine.Principal, error)
}

// Config holds the HTTP-level settings.
type Config struct {
	// BaseURL is the server's external URL without the /fhir suffix, e.g.
	// http://127.0.0.1:8080. Locations and links are built from it.
	BaseURL string
	// MaxBodyBytes bounds request bodies; larger ones get 413.
	MaxBodyBytes int64
	// Version is reported in the CapabilityStatement.
	Version string
	// UpdateCreate is reported in the CapabilityStatement; the engine enforces it.
	UpdateCreate bool
	// Observer, when set, hears of every answered request (metrics).
	Observer Observer
}

// Observer hears of every answered request: the interaction it was (see
// interactionOf), its status and how long it took.
type Observer interface {
	ObserveRequest(interaction string, status int, elapsed time.Duration)
}

// Server is the FHIR HTTP API.
type Server struct {
	engine *engine.Engine
	authn  Authenticator
	cfg    Config
	log    *slog.Logger
	router chi.Router
	capCache
}

// New builds the HTTP handler. extra is mounted at the root for endpoints
// that live outside /fhir (the OAuth 2.0 authorization server).
func New(eng *engine.Engine, authn Authenticator, extra http.Handler, cfg Config, log *slog.Logger) *Server {
	cfg.BaseURL = strings.TrimSuffix(cfg.BaseURL, "/")
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 16 << 20
	}
	s := &Server{engine: eng, authn: authn, cfg: cfg, log: log}
	r := chi.NewRouter()
	r.Use(s.recoverPanics, s.logRequests)
	r.NotFound(s.fail(fhir.Errorf(fhir.KindNotFound, "no such endpoint")))
	r.MethodNotAllowed(s.fail(fhir.Errorf(fhir.KindMethodNotAllowed, "method not allowed here")))
	r.Route("/fhir", s.fhirRoutes)
	if extra != nil {
		r.Handle("/oauth2/*", extra)
		r.Handle("/.well-known/*", extra)
		r.Handle("/auth/*", extra)
		r.Handle("/fhir/.well-known/*", extra)
		r.Handle("/admin/*", extra)
	}
	s.router = r
	return s
}

func (s *Server) fhirRoutes(r chi.Router) {
	r.Use(cors)
	r.NotFound(s.fail(fhir.Errorf(fhir.KindNotFound, "no such endpoint")))
	r.MethodNotAllowed(s.fail(fhir.Errorf(fhir.KindMethodNotAllowed, "method not allowed here")))
	r.Get("/metadata", s.metadata)
	// /{type} takes PUT and DELETE (conditional update and delete); without
	// these, chi would route them for /metadata there.
	for _, m := range []string{http.MethodPut, http.MethodDelete, http.MethodPost, http.MethodPatch} {
		r.Method(m, "/metadata", s.fail(fhir.Errorf(fhir.KindMethodNotAllowed, "method not allowed here")))
	}
	r.Group(func(r chi.Router) {
		r.Use(s.authenticate, s.limitBody)
		r.Get("/", s.search)
		r.Post("/", s.bundle)
		r.Post("/_search", s.search)
		r.Get("/_history", s.history)
		r.Post("/{type}", s.create)
		r.Get("/{type}", s.search)
		r.Put("/{type}", s.conditionalUpdate)
		r.Delete("/{type}", s.conditionalDelete)
		r.Post("/{type}/_search", s.search)
		r.Get("/{type}/_history", s.history)
		r.Get("/{type}/{id}", s.read)
		r.Put("/{type}/{id}", s.update)
		r.Patch("/{type}/{id}", s.patch)
		r.Delete("/{type}/{id}", s.delete)
		r.Get("/{type}/{id}/_history", s.history)
		r.Get("/{type}/{id}/_history/{vid}", s.vread)
	})
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.router.ServeHTTP(w, r)
}
