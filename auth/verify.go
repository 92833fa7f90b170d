package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// Claims is what a verified access token says about its bearer.
type Claims struct {
	Tenant    string // the tenant every storage call is scoped to
	Subject   string // sub: the client id for client_credentials, else the user
	ClientID  string
	Scope     string // space-separated SMART scopes; parse with scope.Parse
	FhirUser  string // a Practitioner/Patient/… reference, when a user is behind the token
	Patient   string // the launch patient's id (patient/ scopes are limited to it)
	Encounter string // the launch encounter's id
	Roles     []string
	// Organization and Verified describe a user to the access policy.
	Organization string
	Verified     bool
	ID           string // jti
	Issuer       string // set for tokens of a trusted external issuer
	IssuedAt     time.Time
	ExpiresAt    time.Time
}

// UserID is the user behind the token, "" for a client acting as itself.
func (c Claims) UserID() string {
	if c.Subject == c.ClientID {
		return ""
	}
	return c.Subject
}

const (
	// leeway absorbs small clock differences between hosts.
	leeway = 30 * time.Second
	// maxTokenLen refuses absurd inputs before any parsing work.
	maxTokenLen = 8 << 10
)

// verifier checks Hearth's own access tokens.
type verifier struct {
	issuer   string
	audience string
	keys     *keyRing
	clock    func() time.Time
	cache    *tokenCache
}

// privateClaims are the non-registered claims Hearth reads.
type privateClaims struct {
	Tenant    string   `json:"tenant"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope"`
	FhirUser  string   `json:"fhirUser"`
	Patient   string   `json:"patient"`
	Encounter string   `json:"encounter"`
	Roles     []string `json:"roles"`
	Org       string   `json:"organization"`
	Verified  bool     `json:"verified"`
}

// Verify checks a bearer access token (without the "Bearer " prefix).
// Hearth's own: an ES256 signature by one of our keys, our issuer, the FHIR
// base URL among its audiences, exp/nbf/iat within a small leeway, a
// tenant, and neither the token nor its user's earlier tokens revoked. A
// trusted external issuer's: go-oidc's checks (discovery keys, issuer,
// audience, expiry, signature) and the issuer's claim mapping. Any failure
// is KindUnauthorized with a message that says only "invalid token" or
// "token expired"; the reason is in the error's Cause, for the log.
func (s *Server) Verify(ctx context.Context, bearer string) (Claims, error) {
	var (
		cl  Claims
		err error
	)
	// A token of ours verified before needs no routing: parsing it for its
	// issuer would cost more than the cached verification saves.
	iss := ""
	if _, known := s.verifier.cache.get(bearer, s.verifier.clock()); !known {
		iss = unverifiedIssuer(bearer)
	}
	if iss != "" && iss != s.issuer {
		t, ok := s.external.find(iss)
		if !ok {
			return Claims{}, invalidToken(errors.New("untrusted issuer"))
		}
		cl, err = s.external.verify(ctx, t, bearer)
	} else {
		cl, err = s.verifier.verify(bearer)
		if err == nil && s.revocations.revoked(ctx, cl) {
			err = invalidToken(errors.New("revoked"))
		}
	}
	if err != nil {
		return Claims{}, err
	}
	if err := s.tenants.check(ctx, cl.Tenant); err != nil {
		return Claims{}, err
	}
	return cl, nil
}

// knownTenants remembers the tenants that exist, so that a token naming
// another (an external issuer's claim, a token of a removed tenant) is
// refused without a store read per request. What it remembers is checked
// again after tenantRecheck, so a tenant deleted by `hearth tenant delete`
// (another process) stops accepting its tokens within that time.
type knownTenants struct {
	accounts store.Accounts
	clock    func() time.Time
	mu       sync.Mutex
	known    map[string]time.Time // when the tenant was last found
}

// tenantRecheck is how long a found tenant is believed to exist.
const tenantRecheck = 30 * time.Second

func (k *knownTenants) check(ctx context.Context, tenant string) error {
	now := k.clock()
	k.mu.Lock()
	seen, ok := k.known[tenant]
	k.mu.Unlock()
	if ok && now.Sub(seen) < tenantRecheck {
		return nil
	}
	_, err := k.accounts.GetTenant(ctx, tenant)
	if fhir.IsKind(err, fhir.KindNotFound) {
		k.mu.Lock()
		delete(k.known, tenant)
		k.mu.Unlock()
		return invalidToken(errors.New("unknown tenant"))
	}
	if err != nil {
		return err
	}
	k.mu.Lock()
	if len(k.known) > 100000 {
		clear(k.known)
	}
	k.known[tenant] = now
	k.mu.Unlock()
	return nil
}

// unverifiedIssuer reads iss without checking anything, only to pick the
// verifier; "" when the token does not parse (the own verifier then says so).
func unverifiedIssuer(bearer string) string {
	if len(bearer) > maxTokenLen {
		return ""
	}
	tok, err := jwt.ParseSigned(bearer, externalAlgs)
	if err != nil {
		return ""
	}
	var c jwt.Claims
	if tok.UnsafeClaimsWithoutVerification(&c) != nil {
		return ""
	}
	return c.Issuer
}

// externalAlgs are the algorithms a token may name to be routed anywhere;
// each verifier then applies its own narrower list (go-oidc: the issuer's).
var externalAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256, jose.PS384, jose.PS512, jose.EdDSA}

func (v *verifier) verify(bearer string) (Claims, error) {
	now := v.clock()
	if cl, ok := v.cache.get(bearer, now); ok {
		return cl, nil
	}
	cl, err := v.verifySignedToken(bearer, now)
	if err == nil {
		v.cache.put(bearer, cl, now)
	}
	return cl, err
}

// verifySignedToken does the full check of a token not seen before.
func (v *verifier) verifySignedToken(bearer string, now time.Time) (Claims, error) {
	if bearer == "" || len(bearer) > maxTokenLen {
		return Claims{}, invalidToken(errors.New("empty or oversized token"))
	}
	// Naming the one accepted algorithm here is what refuses alg "none",
	// HS256 keyed with our public key, and every other substitution.
	tok, err := jwt.ParseSigned(bearer, []jose.SignatureAlgorithm{signingAlg})
	if err != nil {
		return Claims{}, invalidToken(err)
	}
	if len(tok.Headers) != 1 {
		return Claims{}, invalidToken(errors.New("not exactly one signature"))
	}
	key, ok := v.keys.public(tok.Headers[0].KeyID)
	if !ok {
		return Claims{}, invalidToken(errors.New("unknown kid"))
	}
	var reg jwt.Claims
	var priv privateClaims
	if err := tok.Claims(key, &reg, &priv); err != nil {
		return Claims{}, invalidToken(err)
	}
	// go-jose skips time checks for absent claims; a token without them
	// would never expire.
	if reg.Expiry == nil || reg.IssuedAt == nil {
		return Claims{}, invalidToken(errors.New("exp or iat missing"))
	}
	err = reg.ValidateWithLeeway(jwt.Expected{Issuer: v.issuer, Time: now}, leeway)
	if errors.Is(err, jwt.ErrExpired) {
		return Claims{}, &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.Verify", Message: "token expired", Cause: err}
	}
	if err != nil {
		return Claims{}, invalidToken(err)
	}
	// Audience checked here rather than by go-jose, whose Expected.AnyAudience
	// passes when the expectation is empty.
	if !slices.Contains([]string(reg.Audience), v.audience) {
		return Claims{}, invalidToken(errors.New("audience is not this FHIR server"))
	}
	if priv.Tenant == "" || reg.Subject == "" {
		return Claims{}, invalidToken(errors.New("tenant or sub missing"))
	}
	return Claims{
		Tenant:       priv.Tenant,
		Subject:      reg.Subject,
		ClientID:     priv.ClientID,
		Scope:        priv.Scope,
		FhirUser:     priv.FhirUser,
		Patient:      priv.Patient,
		Encounter:    priv.Encounter,
		Roles:        priv.Roles,
		Organization: priv.Org,
		Verified:     priv.Verified,
		ID:           reg.ID,
		IssuedAt:     reg.IssuedAt.Time(),
		ExpiresAt:    reg.Expiry.Time(),
	}, nil
}

func invalidToken(cause error) error {
	return &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.Verify", Message: "invalid token", Cause: cause}
}
