package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// interactions name the FHIR interaction of each route, by method and chi
// route pattern, for metrics: a small, fixed set of label values.
var interactions = map[string]string{
	"GET /fhir/metadata":                   "capabilities",
	"GET /fhir":                            "search-system", // chi names /fhir/ so too
	"POST /fhir":                           "batch-transaction",
	"POST /fhir/_search":                   "search-system",
	"GET /fhir/_history":                   "history-system",
	"POST /fhir/{type}":                    "create",
	"GET /fhir/{type}":                     "search-type",
	"PUT /fhir/{type}":                     "conditional-update",
	"DELETE /fhir/{type}":                  "conditional-delete",
	"POST /fhir/{type}/_search":            "search-type",
	"GET /fhir/{type}/_history":            "history-type",
	"GET /fhir/{type}/{id}":                "read",
	"PUT /fhir/{type}/{id}":                "update",
	"PATCH /fhir/{type}/{id}":              "patch",
	"DELETE /fhir/{type}/{id}":             "delete",
	"GET /fhir/{type}/{id}/_history":       "history-instance",
	"GET /fhir/{type}/{id}/_history/{vid}": "vread",
	"OPTIONS /fhir/*":                      "cors-preflight",
	"GET /fhir/.well-known/*":              "smart-configuration",
	"GET /.well-known/*":                   "discovery",
}

// interactionOf names the request's interaction once chi has routed it:
// a FHIR interaction, the endpoint group of the authorization server and
// pages (oauth2, auth, admin), or "unmatched".
func interactionOf(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return "unmatched"
	}
	pattern := rc.RoutePattern()
	if in, ok := interactions[r.Method+" "+pattern]; ok {
		return in
	}
	// The authorization server and the pages are routers of their own
	// that extend the pattern (/oauth2/oauth2/token): their first segment
	// names the group.
	if strings.HasPrefix(pattern, "/fhir/.well-known/") {
		return "smart-configuration"
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(pattern, "/"), "/")
	switch first {
	case "oauth2", "auth", "admin":
		return first
	case ".well-known":
		return "discovery"
	case "fhir":
		return "fhir-other" // a method the route refuses, and the like
	}
	return "unmatched"
}
