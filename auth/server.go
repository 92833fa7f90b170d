// Package auth is Hearth's authorization server and token verifier. The
// OAuth 2.0 / OpenID Connect protocol is zitadel's op package; this package
// supplies its storage over store.Accounts, Hearth's ES256 signing keys,
// SMART scope narrowing, and the access-token check the FHIR API runs on
// every request.
//
// Today it issues tokens for the client_credentials grant (SMART Backend
// Services with client_secret_basic). The authorization code grant with
// PKCE, refresh tokens, users, login and SMART launch come later.
package auth

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hearth-fhir/hearth/store"
)

// Config configures the authorization server.
type Config struct {
	// Issuer is the server's public origin, e.g. https://fhir.example.org or
	// http://127.0.0.1:8080. It must be https unless the host is loopback.
	// It may not have a path: the endpoints are served from the root.
	Issuer string
	// TokenTTL is how long an access token lives; default one hour.
	TokenTTL time.Duration
	// Clock is the time source for token expiry (exp) and verification;
	// default time.Now. op itself stamps iat/nbf and computes expires_in
	// from the wall clock, so a Clock far from it only suits Verify tests.
	Clock func() time.Time
}

// Endpoint paths, relative to the issuer.
const (
	pathAuthorize  = "/oauth2/authorize"
	pathToken      = "/oauth2/token"
	pathIntrospect = "/oauth2/introspect"
	pathRevoke     = "/oauth2/revoke"
	pathUserinfo   = "/oauth2/userinfo"
	pathJWKS       = "/oauth2/jwks"
	pathLogout     = "/oauth2/logout"
	pathDevice     = "/oauth2/device_authorization"
	pathDiscovery  = "/.well-known/openid-configuration"
)

// Server is the authorization server and the access-token verifier.
type Server struct {
	issuer   string
	audience string
	provider *op.Provider
	verifier *verifier
}

// NewServer loads the signing keys (creating the first one on a fresh
// store) and builds the authorization server.
func NewServer(ctx context.Context, cfg Config, accounts store.Accounts, logger *slog.Logger) (*Server, error) {
	issuer, insecure, err := checkIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	keys, err := loadKeys(ctx, accounts, cfg.Clock(), logger)
	if err != nil {
		return nil, err
	}
	audience := issuer + "/fhir"
	st := &storage{accounts: accounts, keys: keys, audience: audience, ttl: cfg.TokenTTL, clock: cfg.Clock, logger: logger}

	opCfg := &op.Config{
		// op encrypts opaque tokens with this key. Hearth issues JWTs only,
		// but a random key means a misconfigured client can never get an
		// opaque token sealed with the zero key.
		CryptoKey:       randomKey(),
		SupportedScopes: []string{"system/*.cruds", "system/*.rs", "system/*.read", "system/*.write", "system/*.*"},
		SupportedClaims: []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "client_id", "tenant"},
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint(pathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(pathToken)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(pathIntrospect)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(pathRevoke)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(pathUserinfo)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(pathJWKS)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(pathLogout)),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(pathDevice)),
	}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(opCfg, st, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("auth: build authorization server: %w", err)
	}
	return &Server{
		issuer:   issuer,
		audience: audience,
		provider: provider,
		verifier: &verifier{issuer: issuer, audience: audience, keys: keys, clock: cfg.Clock, cache: newTokenCache()},
	}, nil
}

// Handler serves /oauth2/* and /.well-known/openid-configuration; mount it
// at the root. op's own /healthz and /ready are deliberately not exposed:
// they belong to server/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/", s.provider)
	mux.Handle(pathDiscovery, s.provider)
	return mux
}

// Issuer is the issuer URL, the iss of every token.
func (s *Server) Issuer() string { return s.issuer }

// Audience is the FHIR base URL (issuer + "/fhir"), the aud of every token.
func (s *Server) Audience() string { return s.audience }

// checkIssuer normalises the issuer and decides whether op must be told to
// accept plain http, which it then accepts for any host; Hearth allows it
// for loopback only, so a misconfigured production server fails to start
// rather than hand out tokens over cleartext.
func checkIssuer(raw string) (issuer string, insecure bool, err error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false, fmt.Errorf("auth: issuer %q is not an absolute URL without query or fragment", raw)
	}
	if u.Path != "" {
		return "", false, fmt.Errorf("auth: issuer %q has a path; it must be an origin", raw)
	}
	switch u.Scheme {
	case "https":
		return u.String(), false, nil
	case "http":
		if isLoopback(u.Hostname()) {
			return u.String(), true, nil
		}
	}
	return "", false, fmt.Errorf("auth: issuer %q must be https (http is allowed for loopback hosts only)", raw)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func randomKey() [32]byte {
	var k [32]byte
	rand.Read(k[:])
	return k
}
