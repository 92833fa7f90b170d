package auth

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The op.Storage methods below belong to flows Hearth does not offer yet:
// the authorization code grant with PKCE, refresh tokens, users, sessions,
// userinfo, introspection, revocation and the JWT profile grant. Each
// returns a protocol error saying so, never panics; the SMART on FHIR issue
// fills them in.

// unsupported is the error for a flow that is not implemented yet.
func unsupported(what string) *oidc.Error {
	return oidc.ErrRequestNotSupported().WithDescription("%s is not supported yet", what)
}

// CreateAuthRequest is not supported yet: there is no authorization code flow.
func (s *storage) CreateAuthRequest(context.Context, *oidc.AuthRequest, string) (op.AuthRequest, error) {
	return nil, unsupported("the authorization endpoint")
}

// AuthRequestByID is not supported yet: there is no authorization code flow.
func (s *storage) AuthRequestByID(context.Context, string) (op.AuthRequest, error) {
	return nil, unsupported("the authorization endpoint")
}

// AuthRequestByCode is not supported yet: there is no authorization code flow.
func (s *storage) AuthRequestByCode(context.Context, string) (op.AuthRequest, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("authorization_code is not supported yet")
}

// SaveAuthCode is not supported yet: there is no authorization code flow.
func (s *storage) SaveAuthCode(context.Context, string, string) error {
	return unsupported("the authorization endpoint")
}

// DeleteAuthRequest is not supported yet: there is no authorization code flow.
func (s *storage) DeleteAuthRequest(context.Context, string) error {
	return unsupported("the authorization endpoint")
}

// CreateAccessAndRefreshTokens is not supported yet: no refresh tokens are issued.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported yet")
}

// TokenRequestByRefreshToken is not supported yet: no refresh tokens are issued.
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported yet")
}

// GetRefreshTokenInfo answers op.ErrInvalidRefreshToken, as op requires for
// a token that is not a refresh token: none are issued yet.
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// RevokeToken is not supported yet: access tokens are short-lived JWTs and
// there are no refresh tokens to revoke.
func (s *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return &oidc.Error{ErrorType: "unsupported_token_type", Description: "token revocation is not supported yet"}
}

// TerminateSession is not supported yet: there are no user sessions.
func (s *storage) TerminateSession(context.Context, string, string) error {
	return unsupported("logout")
}

// SetUserinfoFromScopes is deprecated in op and left empty as op asks.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromToken is not supported yet: there are no users.
func (s *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return unsupported("userinfo")
}

// SetIntrospectionFromToken is not supported yet, so op answers
// {"active": false} for every token.
func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return unsupported("introspection")
}

// GetKeyByIDAndClientID is not supported yet: clients cannot register keys,
// so the JWT profile grant and private_key_jwt authentication fail.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, unsupported("client keys")
}

// ValidateJWTProfileScopes is not supported yet: see GetKeyByIDAndClientID.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, unsupported("the JWT profile grant")
}
