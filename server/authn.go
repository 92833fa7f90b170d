package server

import (
	"context"

	"github.com/hearth-fhir/hearth/auth"
	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/engine"
	"github.com/hearth-fhir/hearth/fhir"
)

// TokenVerifier checks a bearer token and returns its claims.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (auth.Claims, error)
}

// Bearer adapts a token verifier to an Authenticator.
func Bearer(v TokenVerifier) Authenticator { return bearer{v} }

type bearer struct{ v TokenVerifier }

func (b bearer) Authenticate(ctx context.Context, token string) (engine.Principal, error) {
	c, err := b.v.Verify(ctx, token)
	if err != nil {
		return engine.Principal{}, err
	}
	scopes, err := scope.Parse(c.Scope)
	if err != nil {
		return engine.Principal{}, &fhir.Error{Kind: fhir.KindUnauthorized, Message: "invalid token", Cause: err}
	}
	return engine.Principal{
		Tenant: c.Tenant, Subject: c.Subject, ClientID: c.ClientID, FhirUser: c.FhirUser, Scopes: scopes,
		LaunchPatient: c.Patient, Roles: c.Roles, Organization: c.Organization, Verified: c.Verified,
		Kind: kindOf(c),
	}, nil
}

// kindOf tells the access policy whether a user or a client is behind a
// token: a user token's subject is the user, a client's its client id.
func kindOf(c auth.Claims) string {
	if c.UserID() != "" {
		return "user"
	}
	return "client"
}
