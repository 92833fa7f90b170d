package auth

import (
	"slices"
	"strings"
	"time"

	"github.com/hearth-fhir/hearth/auth/scope"
)

// supportedScopes are advertised in discovery; SMART resource scopes are
// open-ended and are not all listed.
var supportedScopes = []string{
	"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access",
	"patient/*.rs", "patient/*.cruds", "user/*.rs", "user/*.cruds", "system/*.rs", "system/*.cruds",
	"patient/*.read", "user/*.read", "system/*.read",
}

// grant is what a user (or, for client_credentials, a client) was granted:
// it travels from the consent page through the authorization code into
// access tokens and refresh tokens.
type grant struct {
	Tenant    string    `json:"tenant"`
	ClientID  string    `json:"client_id"`
	UserID    string    `json:"user_id,omitempty"`
	Scope     string    `json:"scope"` // space-separated, as granted
	Patient   string    `json:"patient,omitempty"`
	Encounter string    `json:"encounter,omitempty"`
	FhirUser  string    `json:"fhirUser,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	Org       string    `json:"organization,omitempty"`
	Verified  bool      `json:"verified,omitempty"`
	AuthTime  time.Time `json:"auth_time"`
	AMR       []string  `json:"amr,omitempty"`
	ChainID   string    `json:"chain_id,omitempty"` // refresh-token chain
	IdP       string    `json:"idp,omitempty"`      // external issuer the user signed in with
	// Session is the login session (store id) the grant came from: an
	// online_access refresh token works only while it lives.
	Session string `json:"session,omitempty"`
}

func (g grant) scopes() []string { return strings.Fields(g.Scope) }

func (g grant) has(sc string) bool { return slices.Contains(g.scopes(), sc) }

// opScopes are the scopes as op sees them. op only issues a refresh token
// when offline_access is among them; SMART's online_access asks for one
// too, so op is shown offline_access in its place, and the token response
// is given the real scope back (tokenendpoint.go).
func (g grant) opScopes() []string {
	sc := g.scopes()
	if slices.Contains(sc, "online_access") && !slices.Contains(sc, "offline_access") {
		sc = append(slices.Clone(sc), "offline_access")
	}
	return sc
}

// wantsRefresh reports whether the grant includes a refresh token.
func (g grant) wantsRefresh() bool { return g.has("offline_access") || g.has("online_access") }

// claims are the private claims of an access token for this grant.
func (g grant) claims() map[string]any {
	c := map[string]any{"scope": g.Scope, "tenant": g.Tenant}
	if g.FhirUser != "" {
		c["fhirUser"] = g.FhirUser
	}
	if g.Patient != "" {
		c["patient"] = g.Patient
	}
	if g.Encounter != "" {
		c["encounter"] = g.Encounter
	}
	if len(g.Roles) > 0 {
		c["roles"] = g.Roles
	}
	if g.Org != "" {
		c["organization"] = g.Org
	}
	if g.Verified {
		c["verified"] = true
	}
	if g.ChainID != "" {
		c["sid"] = g.ChainID
	}
	return c
}

// narrowScopes narrows a requested scope string to a client's registration.
// Scopes that are not resource scopes (openid, fhirUser, launch…, offline
// and online access) are always offered: they reveal nothing by themselves.
func narrowScopes(requested []string, registered string) (scope.Set, error) {
	req, err := scope.Parse(strings.Join(requested, " "))
	if err != nil {
		return scope.Set{}, err
	}
	allowed, err := scope.Parse(registered)
	if err != nil {
		return scope.Set{}, err
	}
	allowed.Other = append(allowed.Other, identityScopes...)
	return scope.Narrow(req, allowed), nil
}

// identityScopes are the non-resource scopes every interactive client may ask for.
var identityScopes = []string{"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
	"offline_access", "online_access"}
