// Package hearthtest starts real Hearth servers for tests and benchmarks:
// a real store (SQLite in a temp dir, or PostgreSQL in a fresh schema), the
// real engine and authorization server, on a loopback httptest server.
package hearthtest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-fhir/hearth/app"
	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/postgres"
	"github.com/hearth-fhir/hearth/store/postgres/pgtest"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

// Backends are the store backends every HTTP-level test runs against.
var Backends = []string{"sqlite", "postgres"}

// OpenStore opens a fresh, migrated store of the given backend, closed when
// the test ends.
func OpenStore(t testing.TB, backend string) store.Store {
	t.Helper()
	ctx := context.Background()
	var (
		st  store.Store
		err error
	)
	switch backend {
	case "sqlite":
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "hearth.db"))
	case "postgres":
		st, err = postgres.Open(ctx, pgtest.URL(t))
	default:
		t.Fatalf("unknown backend %q", backend)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", backend, err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", backend, err)
	}
	return st
}

// Server is a running Hearth on loopback.
type Server struct {
	URL   string // base URL without /fhir
	Store store.Store
	Auth  *auth.Server // the authorization server, for launches, users and sessions
	// Metrics serves the Prometheus metrics when the configuration asks
	// for them (app.Config.Metrics); nil otherwise.
	Metrics http.Handler
	t       testing.TB
}

// Option changes the configuration of a test server.
type Option func(*app.Config)

// Start runs Hearth over st on a free loopback port until the test ends.
func Start(t testing.TB, st store.Store, opts ...Option) *Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	cfg := app.DefaultConfig(base)
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Assemble(context.Background(), cfg, st, log)
	if err != nil {
		t.Fatalf("assemble server: %v", err)
	}
	ts.Config.Handler = a.Handler
	ts.Start()
	t.Cleanup(ts.Close)
	return &Server{URL: base, Store: st, Auth: a.Auth, Metrics: a.Metrics, t: t}
}

// FHIR returns the FHIR base URL.
func (s *Server) FHIR() string { return s.URL + "/fhir" }

// Token registers a client in tenant with scopes and returns an access token
// obtained from the token endpoint with client credentials.
func (s *Server) Token(tenant, scopes string) string {
	s.t.Helper()
	ctx := context.Background()
	if err := s.Store.EnsureTenant(ctx, store.Tenant{ID: tenant, Name: tenant, CreatedAt: time.Now().UTC()}); err != nil {
		s.t.Fatalf("tenant: %v", err)
	}
	id, secret, err := auth.RegisterClient(ctx, s.Store, tenant, "test-"+tenant, scopes)
	if err != nil {
		s.t.Fatalf("register client: %v", err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scopes}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" {
		s.t.Fatalf("token endpoint: %d %s", resp.StatusCode, body)
	}
	return out.AccessToken
}
