package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/hearth-fhir/hearth/store"
)

// signingAlg is the only algorithm Hearth signs and accepts access tokens
// with: ES256 keys are small, fast to verify, and what SMART recommends.
const signingAlg = jose.ES256

// signingKey is one ES256 key pair from the store.
type signingKey struct {
	id      string
	private *ecdsa.PrivateKey
}

// keyRing holds the server's keys: the newest signs, every one verifies, so
// a new key can be added while tokens signed by the old one are still alive.
type keyRing struct {
	keys []signingKey // newest first, never empty
}

// signer is the key new tokens are signed with.
func (r *keyRing) signer() signingKey { return r.keys[0] }

// publicKeys lists every key's public half for the JWKS, newest first.
func (r *keyRing) publicKeys() []publicKey {
	out := make([]publicKey, len(r.keys))
	for i, k := range r.keys {
		out[i] = publicKey{id: k.id, key: &k.private.PublicKey}
	}
	return out
}

// public finds a verification key by kid.
func (r *keyRing) public(kid string) (*ecdsa.PublicKey, bool) {
	for _, k := range r.keys {
		if k.id == kid {
			return &k.private.PublicKey, true
		}
	}
	return nil, false
}

// loadKeys reads the signing keys from the store and creates the first one
// on a fresh store.
//
// The private key is stored as plain PKCS#8 DER for now; once crypt/ lands
// it will be wrapped by the key-encryption key before it reaches the store.
func loadKeys(ctx context.Context, accounts store.Accounts, now time.Time, logger *slog.Logger) (*keyRing, error) {
	ring, err := readKeys(ctx, accounts, logger)
	if err != nil || len(ring.keys) > 0 {
		return ring, err
	}
	k, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.private)
	if err != nil {
		return nil, fmt.Errorf("auth: encode signing key: %w", err)
	}
	err = accounts.AddSigningKey(ctx, store.SigningKey{
		ID: k.id, Algorithm: string(signingAlg), PrivateDER: der, CreatedAt: now.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: store signing key: %w", err)
	}
	logger.InfoContext(ctx, "created token signing key", "kid", k.id)
	// Read back rather than use k: if another instance created a key at the
	// same moment, every instance settles on the same newest key.
	ring, err = readKeys(ctx, accounts, logger)
	if err == nil && len(ring.keys) == 0 {
		err = fmt.Errorf("auth: signing key %s not found after storing it", k.id)
	}
	return ring, err
}

// readKeys parses the stored keys, newest first. Keys of another algorithm
// are skipped (and logged) so a later release may add some; an ES256 key
// that does not parse is an error, as tokens it signed could not be checked.
func readKeys(ctx context.Context, accounts store.Accounts, logger *slog.Logger) (*keyRing, error) {
	stored, err := accounts.SigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: load signing keys: %w", err)
	}
	ring := &keyRing{}
	for _, sk := range stored {
		if sk.Algorithm != string(signingAlg) {
			logger.WarnContext(ctx, "skipping signing key of unsupported algorithm", "kid", sk.ID, "alg", sk.Algorithm)
			continue
		}
		parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateDER)
		if err != nil {
			return nil, fmt.Errorf("auth: signing key %s: %w", sk.ID, err)
		}
		priv, ok := parsed.(*ecdsa.PrivateKey)
		if !ok || priv.Curve != elliptic.P256() {
			return nil, fmt.Errorf("auth: signing key %s is not a P-256 key", sk.ID)
		}
		ring.keys = append(ring.keys, signingKey{id: sk.ID, private: priv})
	}
	return ring, nil
}

// newSigningKey generates a P-256 key whose kid is its RFC 7638 thumbprint,
// so the id is unique without coordination and says which key it is.
func newSigningKey() (signingKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return signingKey{}, fmt.Errorf("auth: generate signing key: %w", err)
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return signingKey{}, fmt.Errorf("auth: key thumbprint: %w", err)
	}
	return signingKey{id: base64.RawURLEncoding.EncodeToString(tp), private: priv}, nil
}

// ID is the JWK kid; with SignatureAlgorithm and Key it makes a signingKey
// an op.SigningKey.
func (k signingKey) ID() string { return k.id }

// SignatureAlgorithm is ES256.
func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return signingAlg }

// Key is the private key, for signing only.
func (k signingKey) Key() any { return k.private }

// publicKey is a key as the JWKS shows it (op.Key). It is a separate type so
// that a private key can never end up in the published key set: go-jose
// would happily serialise "d".
type publicKey struct {
	id  string
	key *ecdsa.PublicKey
}

// ID is the JWK kid.
func (k publicKey) ID() string { return k.id }

// Algorithm is ES256.
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return signingAlg }

// Use marks the key as a signature key.
func (k publicKey) Use() string { return "sig" }

// Key is the public key.
func (k publicKey) Key() any { return k.key }
