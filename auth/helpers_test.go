package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
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

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/store"
	"github.com/hearth-fhir/hearth/store/sqlite"
)

const testIssuer = "http://127.0.0.1:8080"

// openStore opens a migrated SQLite store in a temporary directory with
// one tenant, "acme".
func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hearth.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := db.EnsureTenant(ctx, store.Tenant{ID: "acme", Name: "Acme Clinic", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("tenant: %v", err)
	}
	return db
}

func newServer(t testing.TB, accounts store.Accounts, clock func() time.Time) *auth.Server {
	t.Helper()
	srv, err := auth.NewServer(context.Background(), auth.Config{Issuer: testIssuer, Clock: clock}, accounts,
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	return srv
}

func register(t testing.TB, accounts store.Accounts, scopes string) (id, secret string) {
	t.Helper()
	id, secret, err := auth.RegisterClient(context.Background(), accounts, "acme", "test client", scopes)
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	return id, secret
}

// tokenResponse is the token endpoint's answer, success or error.
type tokenResponse struct {
	status      int
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
	Error       string `json:"error"`
}

// requestToken posts a token request with HTTP Basic client authentication
// (skipped when id is empty).
func requestToken(t testing.TB, base, id, secret string, form url.Values) tokenResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	tr := tokenResponse{status: resp.StatusCode}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response %d is not JSON: %s", resp.StatusCode, body)
	}
	return tr
}

func serve(t testing.TB, srv *auth.Server) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// storedKey reads the newest signing key straight from the store, so tests
// can forge tokens the server must accept or refuse.
func storedKey(t testing.TB, accounts store.Accounts) (kid string, key *ecdsa.PrivateKey) {
	t.Helper()
	keys, err := accounts.SigningKeys(context.Background())
	if err != nil || len(keys) == 0 {
		t.Fatalf("SigningKeys: %v (%d keys)", err, len(keys))
	}
	parsed, err := x509.ParsePKCS8PrivateKey(keys[0].PrivateDER)
	if err != nil {
		t.Fatal(err)
	}
	return keys[0].ID, parsed.(*ecdsa.PrivateKey)
}

// sign makes a compact JWS of claims.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned makes an alg "none" token.
func unsigned(claims map[string]any, kid string) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": kid})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// payload decodes a JWT's claims without verifying them.
func payload(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %q", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
