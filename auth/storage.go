package auth

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// storage is what zitadel's op needs from us (op.Storage plus
// op.ClientCredentialsStorage), over the store. Access tokens are
// self-contained JWTs and are not stored; authorization requests, codes and
// refresh tokens are, so they survive a restart and work across instances.
type storage struct {
	server   *Server
	accounts store.Accounts
	users    store.Users
	keys     *keyRing
	audience string // the FHIR base URL every token is for
	ttl      time.Duration
	clock    func() time.Time
	logger   *slog.Logger
}

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.ClientCredentialsStorage       = (*storage)(nil)
	_ op.CanGetPrivateClaimsFromRequest = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
)

// tokenRequest is a granted client_credentials request: the client acts as
// itself, so the subject is the client id.
type tokenRequest struct {
	clientID string
	tenant   string
	scopes   scope.Set
	audience string
}

// GetSubject is the client id.
func (r *tokenRequest) GetSubject() string { return r.clientID }

// GetAudience is the FHIR base URL.
func (r *tokenRequest) GetAudience() []string { return []string{r.audience} }

// GetScopes is what was granted; op echoes it in the token response.
func (r *tokenRequest) GetScopes() []string { return strings.Fields(r.scopes.String()) }

// ClientCredentials authenticates a client for the client_credentials
// grant: with its secret, or, when the token endpoint already verified its
// private_key_jwt assertion for this request, by that.
func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	if asserted, ok := assertedClient(ctx); ok {
		return client{stored: asserted, issuer: s.server.issuer, assertedByJWT: true}, nil
	}
	c, err := authenticateClient(ctx, s.accounts, clientID, clientSecret)
	if err != nil {
		return nil, s.clientError(ctx, err)
	}
	return client{stored: c, issuer: s.server.issuer}, nil
}

// ClientCredentialsTokenRequest decides the scopes of a client_credentials
// token: the requested ones (all registered ones when none are asked for)
// narrowed to the registration. Only system/ resource scopes survive, as
// SMART Backend Services has no user or patient to give patient/ or user/
// scopes (or openid, launch …) a meaning. Nothing left is invalid_scope.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, ok := assertedClient(ctx)
	if !ok {
		var err error
		if c, err = s.accounts.LookupClient(ctx, clientID); err != nil {
			return nil, s.serverError(ctx, "look up client", err)
		}
	}
	allowed, err := scope.Parse(c.Scopes)
	if err != nil {
		return nil, s.serverError(ctx, "parse registered scopes", err)
	}
	requested := allowed
	if len(scopes) > 0 {
		if requested, err = scope.Parse(strings.Join(scopes, " ")); err != nil {
			return nil, oidc.ErrInvalidScope().WithDescription("malformed scope")
		}
	}
	var granted scope.Set
	for _, sc := range scope.Narrow(requested, allowed).Resource {
		if sc.Context == "system" {
			granted.Resource = append(granted.Resource, sc)
		}
	}
	if granted.Empty() {
		return nil, oidc.ErrInvalidScope().WithDescription("none of the requested scopes may be granted to this client")
	}
	return &tokenRequest{clientID: c.ID, tenant: c.Tenant, scopes: granted, audience: s.audience}, nil
}

// grantOf returns the grant behind any token request op hands us.
func grantOf(req op.TokenRequest) (grant, bool) {
	switch r := req.(type) {
	case *tokenRequest:
		return grant{Tenant: r.tenant, ClientID: r.clientID, Scope: r.scopes.String()}, true
	case *authRequest:
		return r.Grant, r.Completed
	case *refreshRequest:
		return r.current(), true
	}
	return grant{}, false
}

// CreateAccessToken gives a token its id (jti) and expiry. Nothing is
// stored: the JWT carries everything the resource server needs.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	noteIssued(ctx, g, "")
	return randomString(16), s.clock().Add(s.ttl).UTC(), nil
}

// CreateAccessAndRefreshTokens issues an access token id and a new refresh
// token. With currentRefreshToken set this is a rotation: the presented
// token is marked used in the same statement that checks it was unused, so
// of two concurrent refreshes with one token only one wins, and the loser
// is treated as the replay it may be (the chain is revoked).
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	now := s.clock().UTC()
	base := g
	if rr, isRefresh := req.(*refreshRequest); isRefresh {
		base = rr.Grant // the new refresh token keeps the full original grant
		old, fresh, err := s.users.UseRefreshToken(ctx, hashToken(currentRefreshToken), now)
		if err != nil {
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithParent(err)
		}
		if !fresh {
			s.reuseDetected(ctx, old)
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token already used")
		}
	} else {
		base.ChainID = "c_" + randomString(12)
		g.ChainID = base.ChainID
	}
	refresh, err := s.storeRefreshToken(ctx, base, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	noteIssued(ctx, g, refresh)
	return randomString(16), refresh, now.Add(s.ttl), nil
}

// refreshTTL is offline_access's configured lifetime, or a login session's
// for online_access.
func (s *storage) refreshTTL(g grant) time.Duration {
	if g.has("offline_access") {
		return s.server.cfg.RefreshTTL
	}
	return s.server.cfg.Login.SessionLifetime
}

func (s *storage) storeRefreshToken(ctx context.Context, g grant, now time.Time) (string, error) {
	token := "rt_" + randomString(32)
	data, err := jsonMarshal(g)
	if err != nil {
		return "", err
	}
	exp := now.Add(s.refreshTTL(g))
	if !g.AuthTime.IsZero() && g.has("online_access") && !g.has("offline_access") {
		// online_access lives no longer than the login it came from.
		exp = g.AuthTime.Add(s.server.cfg.Login.SessionLifetime)
	}
	err = s.users.CreateRefreshToken(ctx, store.RefreshToken{Tenant: g.Tenant, Hash: hashToken(token), ChainID: g.ChainID,
		UserID: g.UserID, ClientID: g.ClientID, Data: data, CreatedAt: now, ExpiresAt: exp})
	if err != nil {
		return "", s.serverError(ctx, "store refresh token", err)
	}
	return token, nil
}

// reuseDetected revokes the chain of a refresh token presented a second
// time: either the client has a bug or someone stole a token, and the
// server cannot tell which copy is the thief's (RFC 9700, section 4.14.2).
func (s *storage) reuseDetected(ctx context.Context, t store.RefreshToken) {
	s.logger.WarnContext(ctx, "refresh token reused; revoking its chain", "tenant", t.Tenant, "client", t.ClientID, "chain", t.ChainID)
	if err := s.users.RevokeRefreshChain(ctx, t.Tenant, t.ChainID); err != nil {
		s.logger.ErrorContext(ctx, "auth: revoke refresh chain", "err", err)
	}
}

// refreshRequest is a refresh token being exchanged.
type refreshRequest struct {
	Grant    grant
	Audience string   // the FHIR base URL
	Scopes   []string // as narrowed by the refresh request, if it asked for less
	Created  time.Time
}

func (r *refreshRequest) current() grant {
	g := r.Grant
	if r.Scopes != nil {
		g.Scope = strings.Join(r.Scopes, " ")
	}
	return g
}

func (r *refreshRequest) GetAMR() []string       { return r.Grant.AMR }
func (r *refreshRequest) GetAudience() []string  { return []string{r.Audience, r.Grant.ClientID} }
func (r *refreshRequest) GetAuthTime() time.Time { return r.Grant.AuthTime }
func (r *refreshRequest) GetClientID() string    { return r.Grant.ClientID }
func (r *refreshRequest) GetScopes() []string    { return r.current().opScopes() }
func (r *refreshRequest) GetSubject() string     { return r.Grant.UserID }

// SetCurrentScopes narrows the scopes for this refresh (op checked they
// are a subset). The offline_access op was shown for online_access is
// dropped again.
func (r *refreshRequest) SetCurrentScopes(sc []string) {
	out := []string{}
	for _, x := range sc {
		if x == "offline_access" && !r.Grant.has("offline_access") {
			continue
		}
		out = append(out, x)
	}
	r.Scopes = out
}

// TokenRequestByRefreshToken finds the grant behind a refresh token. A used
// or revoked token is refused, and a used one revokes its whole chain.
func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.users.GetRefreshToken(ctx, hashToken(token))
	if fhir.IsKind(err, fhir.KindNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if err != nil {
		return nil, s.serverError(ctx, "read refresh token", err)
	}
	if !t.UsedAt.IsZero() && !t.Revoked {
		s.reuseDetected(ctx, t)
	}
	if !t.UsedAt.IsZero() || t.Revoked || !s.clock().Before(t.ExpiresAt) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	var g grant
	if err := jsonUnmarshal(t.Data, &g); err != nil {
		return nil, s.serverError(ctx, "decode refresh token", err)
	}
	if g.UserID != "" {
		u, err := s.users.GetUser(ctx, g.Tenant, g.UserID)
		if err != nil || u.Disabled || t.CreatedAt.Before(u.RevokedBefore) {
			return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
		}
	}
	if g.Session != "" && g.has("online_access") && !g.has("offline_access") {
		// online_access: usable only while the user's login lives (not
		// signed out, not idle, not past its lifetime).
		if _, err := s.server.liveSession(ctx, g.Session); err != nil {
			if !fhir.IsKind(err, fhir.KindUnauthorized) {
				return nil, s.serverError(ctx, "check login session", err)
			}
			return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
		}
	}
	return &refreshRequest{Grant: g, Audience: s.audience, Created: t.CreatedAt}, nil
}

// GetRefreshTokenInfo is only used by op's revocation endpoint, which
// Hearth answers itself (revoke.go).
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// RevokeToken is only used by op's revocation endpoint, which Hearth
// answers itself (revoke.go).
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return oidc.ErrRequestNotSupported()
}

// TerminateSession is only used by op's end-session endpoint, which web/
// answers instead.
func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

// GetPrivateClaimsFromRequest adds Hearth's claims to the access token:
// the granted scope, the tenant, and for user grants fhirUser, roles and
// the launch context.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	g, ok := grantOf(req)
	if !ok {
		return nil, oidc.ErrUnsupportedGrantType()
	}
	return g.claims(), nil
}

// GetPrivateClaimsFromScopes is only called when GetPrivateClaimsFromRequest
// is not implemented; it is, so this never runs.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, oidc.ErrRequestNotSupported()
}

// SetUserinfoFromScopes is deprecated in op and left empty as op asks.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts SMART's fhirUser claim (an absolute URL) and
// the tenant into ID tokens.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	tr, ok := req.(op.TokenRequest)
	if !ok {
		return nil
	}
	g, ok := grantOf(tr)
	if !ok {
		return nil
	}
	if g.FhirUser != "" && (g.has("fhirUser") || g.has("profile")) {
		info.AppendClaims("fhirUser", s.audience+"/"+g.FhirUser)
	}
	info.AppendClaims("tenant", g.Tenant)
	return nil
}

// SetUserinfoFromToken is only used by op's userinfo endpoint, which Hearth
// answers itself (userinfo.go).
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return oidc.ErrRequestNotSupported()
}

// SetIntrospectionFromToken is only used by op's introspection endpoint,
// which Hearth answers itself (introspect.go).
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return oidc.ErrRequestNotSupported()
}

// GetKeyByIDAndClientID serves op's own JWT-profile checks, which Hearth
// does not use: client assertions are verified in tokenendpoint.go.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("client keys are checked by the token endpoint")
}

// ValidateJWTProfileScopes refuses the JWT bearer grant (RFC 7523 section
// 2.1), which SMART does not use.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// GetClientByClientID loads a client for op's other endpoints.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	if asserted, ok := assertedClient(ctx); ok && asserted.ID == clientID {
		return client{stored: asserted, issuer: s.server.issuer, assertedByJWT: true}, nil
	}
	c, err := s.accounts.LookupClient(ctx, clientID)
	if err != nil {
		if fhir.IsKind(err, fhir.KindNotFound) {
			return nil, badClient()
		}
		return nil, s.serverError(ctx, "look up client", err)
	}
	if c.Disabled {
		return nil, badClient()
	}
	return client{stored: c, issuer: s.server.issuer}, nil
}

// AuthorizeClientIDSecret authenticates a client on op's other endpoints.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, clientID, clientSecret string) error {
	_, err := authenticateClient(ctx, s.accounts, clientID, clientSecret)
	return s.clientError(ctx, err)
}

// SigningKey is the newest key.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.keys.signer(), nil }

// SignatureAlgorithms is ES256 only.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{signingAlg}, nil
}

// KeySet publishes the public half of every key, old ones included, so
// tokens signed before a rotation still verify.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	pub := s.keys.publicKeys()
	out := make([]op.Key, len(pub))
	for i, k := range pub {
		out[i] = k
	}
	return out, nil
}

// Health reports ready: the keys are loaded and the store is checked by
// server/'s own readiness probe.
func (s *storage) Health(context.Context) error { return nil }

// clientError turns a client authentication failure into what op expects:
// a plain error (answered invalid_client) for a bad client, server_error
// for a store failure, which is logged here because op only logs to
// slog.Default.
func (s *storage) clientError(ctx context.Context, err error) error {
	if err == nil || fhir.IsKind(err, fhir.KindUnauthorized) {
		return err
	}
	return s.serverError(ctx, "authenticate client", err)
}

// serverError logs a failure and returns a server_error whose description
// says nothing about it: op copies descriptions into responses.
func (s *storage) serverError(ctx context.Context, what string, err error) error {
	s.logger.ErrorContext(ctx, "auth: "+what, "err", err)
	return oidc.ErrServerError().WithDescription("internal error").WithParent(err)
}

func isConflict(err error) bool { return fhir.IsKind(err, fhir.KindConflict) }
