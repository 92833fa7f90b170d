package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/url"
	"time"

	"github.com/hearth-fhir/hearth/auth/scope"
	"github.com/hearth-fhir/hearth/fhir"
	"github.com/hearth-fhir/hearth/store"
)

// RegisterClient creates a confidential client in tenant that may be granted
// at most scopes, and returns its id and secret. The secret is shown once:
// only its hash is stored. The tenant must exist. CreatedAt is the wall
// clock, as a registration is an administrative act, not part of a flow a
// test needs to steer.
func RegisterClient(ctx context.Context, accounts store.Accounts, tenant, name, scopes string) (clientID, secret string, err error) {
	const op = "auth.RegisterClient"
	set, err := scope.Parse(scopes)
	if err != nil {
		return "", "", err
	}
	if set.Empty() {
		return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "a client needs at least one scope"}
	}
	if _, err := accounts.GetTenant(ctx, tenant); err != nil {
		return "", "", fmt.Errorf("%s: tenant %q: %w", op, tenant, err)
	}
	clientID = randomString(16)
	secret = randomString(32)
	err = accounts.CreateClient(ctx, store.Client{
		Tenant:     tenant,
		ID:         clientID,
		Name:       name,
		SecretHash: hashSecret(secret),
		Scopes:     set.String(),
		CreatedAt:  time.Now().UTC(),
	})
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	return clientID, secret, nil
}

// App is the registration of a client that is not a plain backend service
// with a secret: a public (browser or native) app, a confidential app with
// redirect URIs, or a Backend Services client with keys.
type App struct {
	Tenant       string
	Name         string
	Scopes       string   // the most the client may be granted
	AuthMethod   string   // store.AuthSecretBasic, store.AuthNone or store.AuthPrivateKeyJWT
	RedirectURIs []string // needed for the authorization code grant
	JWKS         string   // private_key_jwt: public keys inline (a JWK Set) …
	JWKSURL      string   // … or where to fetch them
}

// RegisterApp registers a client and returns its id, and its secret for
// client_secret_basic (empty otherwise; it is shown once).
func RegisterApp(ctx context.Context, accounts store.Accounts, a App) (clientID, secret string, err error) {
	const op = "auth.RegisterApp"
	set, err := scope.Parse(a.Scopes)
	if err != nil {
		return "", "", err
	}
	if set.Empty() {
		return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "a client needs at least one scope"}
	}
	for _, r := range a.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || !u.IsAbs() || u.Fragment != "" || (u.Scheme == "http" && !isLoopback(u.Hostname())) {
			return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "redirect URIs must be absolute https URLs (http only on loopback) without fragment"}
		}
	}
	c := store.Client{Tenant: a.Tenant, ID: randomString(16), Name: a.Name, Scopes: set.String(),
		AuthMethod: a.AuthMethod, RedirectURIs: a.RedirectURIs, CreatedAt: time.Now().UTC()}
	switch a.AuthMethod {
	case "", store.AuthSecretBasic:
		c.AuthMethod = store.AuthSecretBasic
		secret = randomString(32)
		c.SecretHash = hashSecret(secret)
	case store.AuthNone:
		if len(a.RedirectURIs) == 0 {
			return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "a public client needs a redirect URI"}
		}
	case store.AuthPrivateKeyJWT:
		switch {
		case a.JWKS != "" && a.JWKSURL != "":
			return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "give jwks or jwks_uri, not both"}
		case a.JWKS != "":
			if err := checkJWKS(a.JWKS); err != nil {
				return "", "", err
			}
		case a.JWKSURL != "":
			if u, err := url.Parse(a.JWKSURL); err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
				return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "jwks_uri must be an https URL"}
			}
		default:
			return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "private_key_jwt needs jwks or jwks_uri"}
		}
		c.JWKS, c.JWKSURL = a.JWKS, a.JWKSURL
	default:
		return "", "", &fhir.Error{Kind: fhir.KindInvalid, Op: op, Message: "unknown token endpoint auth method"}
	}
	if _, err := accounts.GetTenant(ctx, a.Tenant); err != nil {
		return "", "", fmt.Errorf("%s: tenant %q: %w", op, a.Tenant, err)
	}
	if err := accounts.CreateClient(ctx, c); err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	return c.ID, secret, nil
}

// hashSecret is SHA-256. A client secret is 256 bits from crypto/rand, so
// no guessing attack can work against its hash and a fast hash is enough;
// slow salted hashes (argon2id) are for human passwords, which are guessable.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// badClient is what every client authentication failure looks like from
// outside: unknown, disabled and wrong secret are not told apart.
func badClient() error {
	return &fhir.Error{Kind: fhir.KindUnauthorized, Op: "auth.authenticateClient", Message: "invalid client"}
}

// authenticateClient checks a client id and secret against the store.
// A store failure other than not-found is returned as such (the caller
// answers server_error, not invalid_client).
func authenticateClient(ctx context.Context, accounts store.Accounts, clientID, secret string) (store.Client, error) {
	// Hash before the lookup so unknown and known clients cost the same.
	presented := hashSecret(secret)
	if clientID == "" {
		return store.Client{}, badClient()
	}
	c, err := accounts.LookupClient(ctx, clientID)
	if fhir.IsKind(err, fhir.KindNotFound) {
		return store.Client{}, badClient()
	}
	if err != nil {
		return store.Client{}, err
	}
	if c.Disabled || len(c.SecretHash) == 0 || subtle.ConstantTimeCompare(presented, c.SecretHash) != 1 {
		return store.Client{}, badClient()
	}
	return c, nil
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand panics rather than return short
	return base64.RawURLEncoding.EncodeToString(b)
}

// MethodOf names the token endpoint auth method an App registers with.
func MethodOf(a App) string {
	if a.AuthMethod == "" {
		return store.AuthSecretBasic
	}
	return a.AuthMethod
}
