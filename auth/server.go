// Package auth is Hearth's authorization server and token verifier. The
// OAuth 2.0 / OpenID Connect protocol is zitadel's op package; this package
// supplies its storage over the store, Hearth's ES256 signing keys, SMART
// scope narrowing and launch context, users, sessions and MFA, and the
// access-token check the FHIR API runs on every request (for its own tokens
// and for those of trusted external identity providers).
//
// Grants: authorization code with PKCE (SMART App Launch, EHR and
// standalone), refresh tokens with rotation and reuse detection, and
// client_credentials with client_secret_basic or private_key_jwt (SMART
// Backend Services). The pages a person sees (login, MFA, patient picker,
// consent) are web/'s; they call the exported methods here.
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
	// RefreshTTL is how long an offline_access refresh token lives; default
	// 30 days. online_access refresh tokens live as long as a login session
	// may (LoginPolicy.SessionLifetime).
	RefreshTTL time.Duration
	// Clock is the time source for token expiry (exp) and verification;
	// default time.Now. op itself stamps iat/nbf and computes expires_in
	// from the wall clock, so a Clock far from it only suits Verify tests.
	Clock func() time.Time
	// Login is the login, lockout, session and MFA policy.
	Login LoginPolicy
	// TrustedIssuers are external OpenID providers whose tokens the FHIR
	// API accepts and whose login the login page offers.
	TrustedIssuers []TrustedIssuer
	// RateLimit bounds the login and token endpoints.
	RateLimit RateLimit
	// Auditor records logins, token issues and account changes; nil
	// records nothing.
	Auditor Auditor
	// HTTPClient fetches client JWK Sets and external providers' discovery
	// documents and keys; default a client with a 10-second timeout.
	HTTPClient *http.Client
}

// Endpoint paths, relative to the issuer.
const (
	pathAuthorize  = "/oauth2/authorize"
	pathToken      = "/oauth2/token"
	pathIntrospect = "/oauth2/introspect"
	pathRevoke     = "/oauth2/revoke"
	pathUserinfo   = "/oauth2/userinfo"
	pathJWKS       = "/oauth2/jwks"
	pathDevice     = "/oauth2/device_authorization"
	pathDiscovery  = "/.well-known/openid-configuration"
	pathSMART      = "/fhir/.well-known/smart-configuration"

	// PathLogout ends the browser session (OpenID end_session_endpoint).
	PathLogout = "/oauth2/logout"
	// PathLogin is the login page; web/ serves it and the pages below.
	PathLogin = "/auth/login"
)

// Server is the authorization server and the access-token verifier.
type Server struct {
	issuer      string
	audience    string
	cfg         Config
	clock       func() time.Time
	logger      *slog.Logger
	accounts    store.Accounts
	users       store.Users
	provider    *op.Provider
	storage     *storage
	verifier    *verifier
	revocations *revocations
	external    *externalIssuers
	limits      *limiter
	clientKeys  *clientKeyCache
	tenants     *knownTenants
}

// NewServer loads the signing keys (creating the first one on a fresh
// store) and builds the authorization server. The store must also offer
// store.Users.
func NewServer(ctx context.Context, cfg Config, accounts store.Accounts, logger *slog.Logger) (*Server, error) {
	issuer, insecure, err := checkIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	users, ok := accounts.(store.Users)
	if !ok {
		return nil, fmt.Errorf("auth: the store does not keep users")
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 30 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cfg.Login.setDefaults()
	cfg.RateLimit.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	keys, err := loadKeys(ctx, accounts, cfg.Clock(), logger)
	if err != nil {
		return nil, err
	}
	audience := issuer + "/fhir"
	s := &Server{
		issuer: issuer, audience: audience, cfg: cfg, clock: cfg.Clock, logger: logger,
		accounts: accounts, users: users,
		revocations: newRevocations(users, cfg.TokenTTL, cfg.Clock),
		limits:      newLimiter(cfg.RateLimit, cfg.Clock),
		clientKeys:  newClientKeyCache(cfg.HTTPClient, cfg.Clock),
		tenants:     &knownTenants{accounts: accounts, clock: cfg.Clock, known: map[string]time.Time{}},
	}
	s.external, err = newExternalIssuers(cfg.TrustedIssuers, cfg.HTTPClient, cfg.Clock, logger)
	if err != nil {
		return nil, err
	}
	s.storage = &storage{server: s, accounts: accounts, users: users, keys: keys, audience: audience,
		ttl: cfg.TokenTTL, clock: cfg.Clock, logger: logger}

	opCfg := &op.Config{
		// op encrypts opaque tokens with this key. Hearth issues JWTs only,
		// but a random key means a misconfigured client can never get an
		// opaque token sealed with the zero key.
		CryptoKey:               randomKey(),
		CodeMethodS256:          true,
		AuthMethodPost:          false,
		AuthMethodPrivateKeyJWT: true,
		GrantTypeRefreshToken:   true,
		SupportedScopes:         supportedScopes,
		SupportedClaims:         []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "client_id", "tenant", "fhirUser", "patient", "encounter", "roles"},
	}
	opts := []op.Option{
		op.WithCustomAuthEndpoint(op.NewEndpoint(pathAuthorize)),
		op.WithCustomTokenEndpoint(op.NewEndpoint(pathToken)),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(pathIntrospect)),
		op.WithCustomRevocationEndpoint(op.NewEndpoint(pathRevoke)),
		op.WithCustomUserinfoEndpoint(op.NewEndpoint(pathUserinfo)),
		op.WithCustomKeysEndpoint(op.NewEndpoint(pathJWKS)),
		op.WithCustomEndSessionEndpoint(op.NewEndpoint(PathLogout)),
		op.WithCustomDeviceAuthorizationEndpoint(op.NewEndpoint(pathDevice)),
	}
	if insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	provider, err := op.NewProvider(opCfg, s.storage, op.StaticIssuer(issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("auth: build authorization server: %w", err)
	}
	s.provider = provider
	s.verifier = &verifier{issuer: issuer, audience: audience, keys: keys, clock: cfg.Clock, cache: newTokenCache()}
	return s, nil
}

// Handler serves the authorization server: /oauth2/*, the OpenID and SMART
// discovery documents. Mount it at the root. op's own /healthz and /ready
// are deliberately not exposed: they belong to server/. Hearth answers
// authorize, token, introspection, revocation and userinfo itself in front
// of op, to add what SMART needs (aud, launch, PKCE for public clients,
// private_key_jwt per Backend Services, launch context in the token
// response) and to check its own revocation lists.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/", s.provider)
	mux.Handle(pathDiscovery, cors(s.provider))
	mux.Handle(pathJWKS, cors(s.provider))
	mux.Handle(pathAuthorize, s.limits.wrap(s.authorize))
	mux.Handle(pathToken, cors(s.limits.wrap(s.token)))
	mux.Handle(pathIntrospect, cors(http.HandlerFunc(s.introspect)))
	mux.Handle(pathRevoke, cors(http.HandlerFunc(s.revoke)))
	mux.Handle(pathUserinfo, cors(http.HandlerFunc(s.userinfo)))
	mux.Handle(pathSMART, cors(http.HandlerFunc(s.smartConfiguration)))
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
