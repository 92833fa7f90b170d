package auth

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/hearth-fhir/hearth/store"
)

// client adapts a stored client to op.Client. For now every client is a
// confidential backend service that may only use client_credentials; the
// SMART issue adds redirect URIs, public clients and the code grant.
type client struct {
	stored store.Client
}

var _ op.Client = client{}

// GetID is the client_id.
func (c client) GetID() string { return c.stored.ID }

// RedirectURIs is empty: no browser flows yet.
func (c client) RedirectURIs() []string { return nil }

// PostLogoutRedirectURIs is empty: no sessions yet.
func (c client) PostLogoutRedirectURIs() []string { return nil }

// ApplicationType is web, which op treats as confidential.
func (c client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// AuthMethod is client_secret_basic, the method we advertise.
func (c client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }

// ResponseTypes is empty: the authorization endpoint is not in use yet.
func (c client) ResponseTypes() []oidc.ResponseType { return nil }

// GrantTypes lists the grants this client may use.
func (c client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeClientCredentials}
}

// LoginURL is empty: there is no login page yet.
func (c client) LoginURL(string) string { return "" }

// AccessTokenType is JWT so resource servers verify tokens without a
// round trip to the store.
func (c client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeJWT }

// IDTokenLifetime is zero: no ID tokens are issued yet.
func (c client) IDTokenLifetime() time.Duration { return 0 }

// DevMode is off: it would relax redirect URI checks.
func (c client) DevMode() bool { return false }

// RestrictAdditionalIdTokenScopes keeps scopes as they are.
func (c client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// RestrictAdditionalAccessTokenScopes keeps scopes as they are; narrowing
// happened when the token request was built.
func (c client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits no scopes beyond the standard ones: SMART scopes are
// checked by scope.Narrow against the registration, not here.
func (c client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion is false: userinfo claims stay out of ID tokens.
func (c client) IDTokenUserinfoClaimsAssertion() bool { return false }

// ClockSkew is zero: op would back-date iat by it, and the verifier's
// leeway already absorbs clock differences.
func (c client) ClockSkew() time.Duration { return 0 }
