package auth

import (
	"net/url"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hearth-fhir/hearth/store"
)

// client adapts a stored client to op.Client.
//
//   - client_secret_basic: client_credentials; with redirect URIs also the
//     authorization code and refresh token grants.
//   - none (public, e.g. a browser app): authorization code with PKCE and
//     refresh tokens.
//   - private_key_jwt: client_credentials (SMART Backend Services); with
//     redirect URIs also the code grant. The assertion is checked by the
//     token endpoint before op sees the request (see tokenendpoint.go),
//     which then presents the client to op as already authenticated.
type client struct {
	stored store.Client
	issuer string
	// assertedByJWT: the token endpoint verified this client's assertion
	// for the current request.
	assertedByJWT bool
}

var _ op.Client = client{}

// GetID is the client_id.
func (c client) GetID() string { return c.stored.ID }

// RedirectURIs are the registered ones; they must match exactly.
func (c client) RedirectURIs() []string { return c.stored.RedirectURIs }

// PostLogoutRedirectURIs are the redirect URIs too.
func (c client) PostLogoutRedirectURIs() []string { return c.stored.RedirectURIs }

// ApplicationType is user agent for public clients, web otherwise.
func (c client) ApplicationType() op.ApplicationType {
	if c.public() {
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}

func (c client) public() bool { return c.stored.AuthMethod == store.AuthNone }

// AuthMethod is how the client authenticates. A client whose assertion the
// token endpoint already verified is "none" to op: there is nothing left
// for op to check but PKCE.
func (c client) AuthMethod() oidc.AuthMethod {
	switch {
	case c.assertedByJWT, c.public():
		return oidc.AuthMethodNone
	case c.stored.AuthMethod == store.AuthPrivateKeyJWT:
		return oidc.AuthMethodPrivateKeyJWT
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes is code for clients with redirect URIs.
func (c client) ResponseTypes() []oidc.ResponseType {
	if len(c.stored.RedirectURIs) == 0 {
		return nil
	}
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes lists the grants this client may use.
func (c client) GrantTypes() []oidc.GrantType {
	var g []oidc.GrantType
	if !c.public() {
		g = append(g, oidc.GrantTypeClientCredentials)
	}
	if len(c.stored.RedirectURIs) > 0 {
		g = append(g, oidc.GrantTypeCode, oidc.GrantTypeRefreshToken)
	}
	return g
}

// LoginURL is Hearth's login page for a pending authorization request.
func (c client) LoginURL(id string) string {
	return c.issuer + PathLogin + "?id=" + url.QueryEscape(id)
}

// AccessTokenType is JWT so resource servers verify tokens without a
// round trip to the store.
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime is an hour.
func (c client) IDTokenLifetime() time.Duration { return time.Hour }

// DevMode relaxes op's refusal of http redirect URIs for public clients. It
// is on only when every registered redirect URI is http on loopback, where
// traffic never leaves the machine (RFC 8252, section 8.3).
func (c client) DevMode() bool {
	if len(c.stored.RedirectURIs) == 0 {
		return false
	}
	for _, r := range c.stored.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || !isLoopback(u.Hostname()) {
			return false
		}
	}
	return true
}

// RestrictAdditionalIdTokenScopes keeps scopes as they are.
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes keeps scopes as they are; narrowing
// happened when the grant was made.
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed lets every scope through op's filter: SMART scopes are
// parsed, narrowed to the registration and shown for consent by Hearth.
func (c client) IsScopeAllowed(string) bool { return true }

// IDTokenUserinfoClaimsAssertion is false: userinfo claims stay out of ID tokens.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return false }

// ClockSkew is zero: op would back-date iat by it, and the verifier's
// leeway already absorbs clock differences.
func (c client) ClockSkew() time.Duration { return 0 }
