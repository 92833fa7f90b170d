package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// seen records what an Observer hears.
type seen struct {
	mu  sync.Mutex
	got map[string]int // "interaction status" → count
}

func (s *seen) ObserveRequest(interaction string, status int, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[interaction+" "+http.StatusText(status)]++
}

// Every request is observed once, named by its interaction; the mounted
// authorization server, a chi router of its own that extends the route
// pattern, is named by its group.
func TestObserverInteractions(t *testing.T) {
	extra := chi.NewRouter()
	extra.Post("/oauth2/token", func(w http.ResponseWriter, r *http.Request) {})
	extra.Get("/fhir/.well-known/smart-configuration", func(w http.ResponseWriter, r *http.Request) {})
	extra.Get("/admin/keys/status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	obs := &seen{got: map[string]int{}}
	s := New(nil, nil, extra, Config{BaseURL: "http://h", Observer: obs}, slog.New(slog.DiscardHandler))
	preflight := httptest.NewRequest("OPTIONS", "/fhir/Patient", nil)
	preflight.Header.Set("Origin", "http://app")
	preflight.Header.Set("Access-Control-Request-Method", "POST")
	s.ServeHTTP(httptest.NewRecorder(), preflight)
	if obs.got["cors-preflight No Content"] != 1 {
		t.Errorf("preflight observed as %v", obs.got)
	}
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/fhir/Patient/1", "read Unauthorized"},
		{"GET", "/fhir/Patient/1/_history/2", "vread Unauthorized"},
		{"GET", "/fhir/Patient", "search-type Unauthorized"},
		{"POST", "/fhir/Patient/_search", "search-type Unauthorized"},
		{"POST", "/fhir/", "batch-transaction Unauthorized"},
		{"POST", "/fhir", "batch-transaction Unauthorized"},
		{"GET", "/fhir?_type=Patient", "search-system Unauthorized"},
		{"PUT", "/fhir/Patient/1", "update Unauthorized"},
		{"PATCH", "/fhir/Patient/1", "patch Unauthorized"},
		{"DELETE", "/fhir/Patient", "conditional-delete Unauthorized"},
		{"GET", "/fhir/Patient/1/_history", "history-instance Unauthorized"},
		{"POST", "/fhir/metadata", "fhir-other Method Not Allowed"},
		{"POST", "/oauth2/token", "oauth2 OK"},
		{"GET", "/fhir/.well-known/smart-configuration", "smart-configuration OK"},
		{"GET", "/admin/keys/status", "admin Forbidden"},
		{"GET", "/nowhere", "unmatched Not Found"},
	} {
		obs.got = map[string]int{}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		io.Copy(io.Discard, rec.Body)
		if len(obs.got) != 1 || obs.got[tc.want] != 1 {
			t.Errorf("%s %s observed as %v, want %q", tc.method, tc.path, obs.got, tc.want)
		}
	}
}
