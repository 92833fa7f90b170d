package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// TrustedIssuer is an external OpenID provider (a hospital's IdP) whose
// tokens Hearth accepts and whose login its login page offers.
type TrustedIssuer struct {
	// Issuer is the provider's issuer URL; discovery and keys are read from it.
	Issuer string `json:"issuer"`
	// Audience is the aud its access tokens must carry for Hearth (often
	// Hearth's FHIR base URL or a client id registered at the IdP).
	Audience string `json:"audience"`
	// Tenant is the tenant its users belong to, or TenantClaim the claim
	// that names it (one of them is required).
	Tenant      string `json:"tenant"`
	TenantClaim string `json:"tenant_claim"`
	// UserClaim names the user (default "sub"); for "Sign in with", its
	// value is the Hearth username, which must exist in the tenant.
	UserClaim string `json:"user_claim"`
	// RolesClaim (default "roles"), FhirUserClaim (default "fhirUser") and
	// ScopeClaim (default "scope") map the token's claims.
	RolesClaim    string `json:"roles_claim"`
	FhirUserClaim string `json:"fhir_user_claim"`
	ScopeClaim    string `json:"scope_claim"`
	// Scopes are granted to its tokens that carry no scope claim (ID
	// tokens, most IdPs' access tokens); empty grants nothing.
	Scopes string `json:"scopes"`
	// Roles are given to its users whose tokens carry no roles claim.
	Roles []string `json:"roles"`
	// Name, ClientID and ClientSecret enable "Sign in with <Name>" on the
	// login page: Hearth is a confidential client of the IdP.
	Name         string `json:"name"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (t *TrustedIssuer) setDefaults() {
	t.Issuer = strings.TrimSuffix(t.Issuer, "/")
	if t.UserClaim == "" {
		t.UserClaim = "sub"
	}
	if t.RolesClaim == "" {
		t.RolesClaim = "roles"
	}
	if t.FhirUserClaim == "" {
		t.FhirUserClaim = "fhirUser"
	}
	if t.ScopeClaim == "" {
		t.ScopeClaim = "scope"
	}
	if t.Name == "" {
		t.Name = t.Issuer
	}
}

// externalIssuers verifies tokens of trusted issuers with go-oidc:
// discovery, keys (fetched again when a token names an unknown kid, which
// is how rotation is followed), issuer, audience, expiry, signature.
type externalIssuers struct {
	http   *http.Client
	clock  func() time.Time
	logger *slog.Logger
	list   []TrustedIssuer

	mu        sync.Mutex
	providers map[string]*oidc.Provider
	failed    map[string]time.Time // last discovery failure, to back off
}

// discoveryBackoff is how long a failed discovery is not retried.
const discoveryBackoff = 10 * time.Second

func newExternalIssuers(list []TrustedIssuer, hc *http.Client, clock func() time.Time, logger *slog.Logger) (*externalIssuers, error) {
	for i := range list {
		list[i].setDefaults()
		t := list[i]
		if t.Issuer == "" || t.Audience == "" {
			return nil, fmt.Errorf("auth: trusted issuer %q needs an issuer URL and an audience", t.Issuer)
		}
		if (t.Tenant == "") == (t.TenantClaim == "") {
			return nil, fmt.Errorf("auth: trusted issuer %q needs exactly one of tenant and tenant claim", t.Issuer)
		}
	}
	return &externalIssuers{http: hc, clock: clock, logger: logger, list: list,
		providers: map[string]*oidc.Provider{}, failed: map[string]time.Time{}}, nil
}

func (e *externalIssuers) find(issuer string) (TrustedIssuer, bool) {
	for _, t := range e.list {
		if t.Issuer == strings.TrimSuffix(issuer, "/") {
			return t, true
		}
	}
	return TrustedIssuer{}, false
}

// provider discovers an issuer once; failures are retried after a pause.
func (e *externalIssuers) provider(ctx context.Context, t TrustedIssuer) (*oidc.Provider, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.providers[t.Issuer]; ok {
		return p, nil
	}
	if at, ok := e.failed[t.Issuer]; ok && e.clock().Sub(at) < discoveryBackoff {
		return nil, errors.New("issuer discovery failed recently")
	}
	// The key set keeps the context it was made with for later fetches:
	// give it one that lives as long as the server, with our HTTP client.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), e.http)
	p, err := oidc.NewProvider(pctx, t.Issuer)
	if err != nil {
		e.failed[t.Issuer] = e.clock()
		e.logger.WarnContext(ctx, "trusted issuer discovery failed", "issuer", t.Issuer, "err", err)
		return nil, err
	}
	e.providers[t.Issuer] = p
	return p, nil
}

// verify checks a bearer token of a trusted issuer and maps its claims.
func (e *externalIssuers) verify(ctx context.Context, t TrustedIssuer, raw string) (Claims, error) {
	p, err := e.provider(ctx, t)
	if err != nil {
		return Claims{}, invalidToken(err)
	}
	v := p.Verifier(&oidc.Config{ClientID: t.Audience, Now: e.clock})
	tok, err := v.Verify(oidc.ClientContext(ctx, e.http), raw)
	if err != nil {
		return Claims{}, invalidToken(err)
	}
	var m map[string]any
	if err := tok.Claims(&m); err != nil {
		return Claims{}, invalidToken(err)
	}
	cl, err := t.mapClaims(m)
	if err != nil {
		return Claims{}, invalidToken(err)
	}
	cl.ExpiresAt, cl.IssuedAt, cl.Issuer = tok.Expiry, tok.IssuedAt, t.Issuer
	if s, ok := m["jti"].(string); ok {
		cl.ID = s
	}
	return cl, nil
}

// mapClaims turns an external token's claims into Hearth's.
func (t TrustedIssuer) mapClaims(m map[string]any) (Claims, error) {
	cl := Claims{Tenant: t.Tenant}
	if t.TenantClaim != "" {
		cl.Tenant, _ = m[t.TenantClaim].(string)
	}
	cl.Subject, _ = m[t.UserClaim].(string)
	if cl.Tenant == "" || cl.Subject == "" {
		return Claims{}, errors.New("token names no tenant or user")
	}
	cl.ClientID, _ = m["azp"].(string)
	if cl.ClientID == "" {
		cl.ClientID, _ = m["client_id"].(string)
	}
	cl.FhirUser, _ = m[t.FhirUserClaim].(string)
	switch sc := m[t.ScopeClaim].(type) {
	case string:
		cl.Scope = sc
	case []any:
		cl.Scope = joinStrings(sc)
	}
	if cl.Scope == "" {
		cl.Scope = t.Scopes
	}
	if len(cl.Roles) == 0 {
		cl.Roles = t.Roles
	}
	switch r := m[t.RolesClaim].(type) {
	case string:
		cl.Roles = strings.Fields(r)
	case []any:
		cl.Roles = strings.Fields(joinStrings(r))
	}
	return cl, nil
}

func joinStrings(v []any) string {
	var parts []string
	for _, x := range v {
		if s, ok := x.(string); ok && !strings.ContainsAny(s, " ") {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// IdP names an external provider the login page offers.
type IdP struct {
	Index int
	Name  string
}

// LoginProviders lists the trusted issuers that offer "Sign in with".
func (s *Server) LoginProviders() []IdP {
	var out []IdP
	for i, t := range s.external.list {
		if t.ClientID != "" {
			out = append(out, IdP{Index: i, Name: t.Name})
		}
	}
	return out
}

// PathIdPCallback is where external providers send the browser back.
const PathIdPCallback = "/auth/idp/callback"

// itemIdPState is a pending external login, by its state value.
const itemIdPState = "idp-state"

type idpState struct {
	Issuer   string `json:"iss"`
	Request  string `json:"req"` // Hearth authorization request to resume
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
}

func (s *Server) oauthConfig(ctx context.Context, t TrustedIssuer) (*oauth2.Config, *oidc.Provider, error) {
	p, err := s.external.provider(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	return &oauth2.Config{ClientID: t.ClientID, ClientSecret: t.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: s.issuer + PathIdPCallback, Scopes: []string{oidc.ScopeOpenID, "profile"}}, p, nil
}

// ExternalLoginURL starts "Sign in with" the idx-th trusted issuer for the
// authorization request reqID: the URL to send the browser to (with state,
// nonce and PKCE).
func (s *Server) ExternalLoginURL(ctx context.Context, idx int, reqID string) (string, error) {
	if idx < 0 || idx >= len(s.external.list) || s.external.list[idx].ClientID == "" {
		return "", fhir.Errorf(fhir.KindNotFound, "no such identity provider")
	}
	t := s.external.list[idx]
	cfg, _, err := s.oauthConfig(ctx, t)
	if err != nil {
		return "", fhir.Errorf(fhir.KindUnavailable, "the identity provider cannot be reached")
	}
	st := idpState{Issuer: t.Issuer, Request: reqID, Nonce: randomString(16), Verifier: oauth2.GenerateVerifier()}
	state := randomString(24)
	data, _ := json.Marshal(st)
	now := s.clock()
	if err := s.users.PutAuthItem(ctx, store.AuthItem{Kind: itemIdPState, ID: hashToken(state), Data: data,
		ExpiresAt: now.Add(authRequestTTL)}, now); err != nil {
		return "", err
	}
	return cfg.AuthCodeURL(state, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), nil
}

// CompleteExternalLogin finishes "Sign in with": it exchanges the code,
// verifies the ID token (issuer, audience = Hearth's client id there,
// nonce, signature), maps it to a Hearth user, and returns the user and
// the authorization request to resume.
func (s *Server) CompleteExternalLogin(ctx context.Context, state, code string) (store.User, string, error) {
	fail := fhir.Errorf(fhir.KindUnauthorized, "sign-in with the identity provider failed")
	it, err := s.users.GetAuthItem(ctx, itemIdPState, hashToken(state), s.clock())
	if err != nil {
		return store.User{}, "", fail
	}
	s.users.DeleteAuthItem(ctx, itemIdPState, hashToken(state))
	var st idpState
	if json.Unmarshal(it.Data, &st) != nil {
		return store.User{}, "", fail
	}
	t, ok := s.external.find(st.Issuer)
	if !ok {
		return store.User{}, "", fail
	}
	cfg, p, err := s.oauthConfig(ctx, t)
	if err != nil {
		return store.User{}, "", fail
	}
	hctx := oidc.ClientContext(ctx, s.cfg.HTTPClient)
	tok, err := cfg.Exchange(hctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.logger.InfoContext(ctx, "identity provider code exchange failed", "issuer", t.Issuer, "err", err)
		return store.User{}, "", fail
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: t.ClientID, Now: s.clock}).Verify(hctx, raw)
	if err != nil || idt.Nonce != st.Nonce {
		s.logger.InfoContext(ctx, "identity provider ID token refused", "issuer", t.Issuer, "err", err)
		return store.User{}, "", fail
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		return store.User{}, "", fail
	}
	cl, err := t.mapClaims(m)
	if err != nil {
		return store.User{}, "", fail
	}
	u, err := s.users.UserByName(ctx, cl.Tenant, cl.Subject)
	if err != nil || u.Disabled {
		return store.User{}, "", fail
	}
	return u, st.Request, nil
}
