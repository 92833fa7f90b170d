package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionAlgs are the algorithms SMART Backend Services names (RS384
// and ES384 are required); the 256-bit variants are accepted as well.
var assertionAlgs = []jose.SignatureAlgorithm{jose.RS384, jose.ES384, jose.RS256, jose.ES256, jose.PS384}

// maxAssertionLifetime: SMART asks that exp be no more than five minutes
// in the future.
const maxAssertionLifetime = 5 * time.Minute

// verifyClientAssertion authenticates a private_key_jwt client: a JWT
// signed by a key the client registered (inline or at its JWKS URL), with
// iss = sub = client_id, aud = this token endpoint, an exp at most five
// minutes ahead, and a jti never seen before.
func (s *Server) verifyClientAssertion(ctx context.Context, form url.Values) (store.Client, error) {
	if form.Get("client_assertion_type") != jwtBearerAssertion {
		return store.Client{}, errors.New("unsupported client_assertion_type")
	}
	raw := form.Get("client_assertion")
	if raw == "" || len(raw) > maxTokenLen {
		return store.Client{}, errors.New("missing or oversized assertion")
	}
	tok, err := jwt.ParseSigned(raw, assertionAlgs)
	if err != nil {
		return store.Client{}, err
	}
	if len(tok.Headers) != 1 {
		return store.Client{}, errors.New("not exactly one signature")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return store.Client{}, err
	}
	if id := form.Get("client_id"); id != "" && id != unverified.Issuer {
		return store.Client{}, errors.New("client_id does not match the assertion")
	}
	c, err := s.accounts.LookupClient(ctx, unverified.Issuer)
	if err != nil {
		return store.Client{}, err
	}
	if c.Disabled || c.AuthMethod != store.AuthPrivateKeyJWT {
		return store.Client{}, errors.New("client does not authenticate with private_key_jwt")
	}
	h := tok.Headers[0]
	key, err := s.clientKeys.key(ctx, c, h.KeyID, jose.SignatureAlgorithm(h.Algorithm))
	if err != nil {
		return store.Client{}, err
	}
	var cl jwt.Claims
	if err := tok.Claims(key, &cl); err != nil {
		return store.Client{}, err
	}
	now := s.clock()
	if cl.Expiry == nil || cl.ID == "" {
		return store.Client{}, errors.New("exp or jti missing")
	}
	if cl.Expiry.Time().After(now.Add(maxAssertionLifetime + leeway)) {
		return store.Client{}, errors.New("exp too far in the future")
	}
	err = cl.ValidateWithLeeway(jwt.Expected{Issuer: c.ID, Subject: c.ID, Time: now}, leeway)
	if err != nil {
		return store.Client{}, err
	}
	if !slices.Contains([]string(cl.Audience), s.issuer+pathToken) {
		return store.Client{}, errors.New("aud is not this token endpoint")
	}
	// Remember the jti until the assertion expires: after that, exp refuses it.
	err = s.users.PutAuthItem(ctx, store.AuthItem{Tenant: c.Tenant, Kind: itemAssertionJTI, ID: c.ID + " " + cl.ID,
		Data: []byte("1"), ExpiresAt: cl.Expiry.Time().Add(leeway)}, now)
	if isConflict(err) {
		return store.Client{}, errors.New("jti replayed")
	}
	if err != nil {
		return store.Client{}, err
	}
	return c, nil
}

// clientKeyCache holds clients' JWK Sets fetched from their JWKS URLs.
type clientKeyCache struct {
	http  *http.Client
	clock func() time.Time
	mu    sync.Mutex
	sets  map[string]cachedSet // by URL
}

type cachedSet struct {
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// jwksFresh is how long a fetched key set is used; an unknown kid fetches
// again, at most once per jwksRetry.
const (
	jwksFresh = 5 * time.Minute
	jwksRetry = 30 * time.Second
)

func newClientKeyCache(hc *http.Client, clock func() time.Time) *clientKeyCache {
	return &clientKeyCache{http: hc, clock: clock, sets: map[string]cachedSet{}}
}

// key finds the client's public key with kid, usable with alg.
func (k *clientKeyCache) key(ctx context.Context, c store.Client, kid string, alg jose.SignatureAlgorithm) (any, error) {
	if c.JWKS != "" {
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(c.JWKS), &set); err != nil {
			return nil, fmt.Errorf("registered JWKS: %w", err)
		}
		return pickKey(set, kid, alg)
	}
	if c.JWKSURL == "" {
		return nil, errors.New("client has no keys")
	}
	now := k.clock()
	k.mu.Lock()
	cs, ok := k.sets[c.JWKSURL]
	k.mu.Unlock()
	if ok && now.Sub(cs.fetched) < jwksFresh {
		if key, err := pickKey(cs.keys, kid, alg); err == nil || now.Sub(cs.fetched) < jwksRetry {
			return key, err
		}
	}
	set, err := k.fetch(ctx, c.JWKSURL)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.sets[c.JWKSURL] = cachedSet{keys: set, fetched: now}
	k.mu.Unlock()
	return pickKey(set, kid, alg)
}

func (k *clientKeyCache) fetch(ctx context.Context, u string) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	resp, err := k.http.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("JWKS URL answered %d", resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set)
	return set, err
}

// pickKey finds a public signing key by kid (any key when there is no kid
// and exactly one key) whose declared alg, if any, matches.
func pickKey(set jose.JSONWebKeySet, kid string, alg jose.SignatureAlgorithm) (any, error) {
	var found []jose.JSONWebKey
	for _, k := range set.Keys {
		if (kid == "" || k.KeyID == kid) && (k.Algorithm == "" || k.Algorithm == string(alg)) &&
			(k.Use == "" || k.Use == "sig") && k.IsPublic() {
			found = append(found, k)
		}
	}
	if len(found) != 1 {
		return nil, errors.New("no single matching key")
	}
	return found[0].Key, nil
}

// checkJWKS validates a JWK Set a client registers: public keys only.
func checkJWKS(raw string) error {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil || len(set.Keys) == 0 {
		return fhir.Errorf(fhir.KindInvalid, "jwks must be a JWK Set with at least one key")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			return fhir.Errorf(fhir.KindInvalid, "jwks must hold public keys only")
		}
	}
	return nil
}
