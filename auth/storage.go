package auth

import (
	"context"
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
// op.ClientCredentialsStorage), over store.Accounts. Issued tokens are
// self-contained JWTs and are not stored. The methods for flows Hearth does
// not support yet live in storage_unsupported.go.
type storage struct {
	accounts store.Accounts
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

// ClientCredentials authenticates a client for the client_credentials grant.
func (s *storage) ClientCredentials(ctx context.Context, clientID, clientSecret string) (op.Client, error) {
	c, err := authenticateClient(ctx, s.accounts, clientID, clientSecret)
	if err != nil {
		return nil, s.clientError(ctx, err)
	}
	return client{stored: c}, nil
}

// ClientCredentialsTokenRequest decides the scopes of a client_credentials
// token: the requested ones (all registered ones when none are asked for)
// narrowed to the registration. Only system/ resource scopes survive, as
// SMART Backend Services has no user or patient to give patient/ or user/
// scopes (or openid, launch …) a meaning. Nothing left is invalid_scope.
func (s *storage) ClientCredentialsTokenRequest(ctx context.Context, clientID string, scopes []string) (op.TokenRequest, error) {
	c, err := s.accounts.LookupClient(ctx, clientID)
	if err != nil {
		return nil, s.serverError(ctx, "look up client", err)
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

// CreateAccessToken gives a token its id (jti) and expiry. Nothing is
// stored: the JWT carries everything the resource server needs.
func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	if _, ok := req.(*tokenRequest); !ok {
		return "", time.Time{}, unsupported("this grant")
	}
	return randomString(16), s.clock().Add(s.ttl).UTC(), nil
}

// GetPrivateClaimsFromRequest adds Hearth's claims to the access token:
// the granted scope and the tenant the client belongs to.
func (s *storage) GetPrivateClaimsFromRequest(ctx context.Context, req op.TokenRequest, _ []string) (map[string]any, error) {
	r, ok := req.(*tokenRequest)
	if !ok {
		return nil, unsupported("this grant")
	}
	return map[string]any{"scope": r.scopes.String(), "tenant": r.tenant}, nil
}

// GetPrivateClaimsFromScopes is only called when GetPrivateClaimsFromRequest
// is not implemented; it is, so this never runs.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, unsupported("private claims from scopes")
}

// GetClientByClientID loads a client for op's other endpoints.
func (s *storage) GetClientByClientID(ctx context.Context, clientID string) (op.Client, error) {
	c, err := s.accounts.LookupClient(ctx, clientID)
	if err != nil {
		if fhir.IsKind(err, fhir.KindNotFound) {
			return nil, badClient()
		}
		return nil, s.serverError(ctx, "look up client", err)
	}
	return client{stored: c}, nil
}

// AuthorizeClientIDSecret authenticates a client on op's other endpoints
// (introspection, revocation).
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
