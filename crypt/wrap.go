package crypt

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Purpose says what a tenant key is for.
type Purpose string

// Key purposes.
const (
	PurposeData  Purpose = "data"  // DEKs: AES-256-GCM, versioned
	PurposeIndex Purpose = "index" // the blind-index key: HMAC-SHA256
)

// KeyContext names the key being wrapped. Wrappers bind the wrapped bytes to
// it, so a wrapped key copied to another tenant, purpose or version does not
// unwrap.
type KeyContext struct {
	Tenant  string
	Purpose Purpose
	Version int
}

// aad encodes the context as associated data, each field length-prefixed.
func (kc KeyContext) aad() []byte {
	return fields("hearth-key", kc.Tenant, string(kc.Purpose), fmt.Sprint(kc.Version))
}

// Wrapper protects tenant keys with a key-encryption key. LocalWrapper holds
// the KEK in process memory; a KMS (AWS KMS Encrypt/Decrypt with the
// KeyContext as encryption context) or a Vault transit backend
// (transit/encrypt and transit/decrypt with associated_data) can implement it
// too, so that the KEK never enters Hearth's memory.
type Wrapper interface {
	// ID names the KEK. It is stored beside each wrapped key, so that during a
	// KEK rotation the right wrapper unwraps each key and RewrapKeys can tell
	// what is left to do. It must not reveal the key.
	ID() string
	// Wrap encrypts a key, bound to kc.
	Wrap(ctx context.Context, kc KeyContext, key []byte) ([]byte, error)
	// Unwrap reverses Wrap; any mismatch (other KEK, other kc, altered bytes)
	// is an error.
	Unwrap(ctx context.Context, kc KeyContext, wrapped []byte) ([]byte, error)
}

// TenantDestroyer is an optional Wrapper capability: destroying the KEK of a
// tenant, for wrappers that keep one per tenant (a KMS key per tenant).
// Ring.Shred calls it, which makes even backups taken before the shredding
// unreadable.
type TenantDestroyer interface {
	DestroyTenant(ctx context.Context, tenant string) error
}

// LocalWrapper wraps keys with AES-256-GCM under a KEK held in memory.
type LocalWrapper struct {
	id   string
	aead cipher.AEAD
}

var _ Wrapper = (*LocalWrapper)(nil)

// NewLocalWrapper returns a wrapper for a 32-byte KEK.
func NewLocalWrapper(kek []byte) (*LocalWrapper, error) {
	if len(kek) != KeySize {
		return nil, fmt.Errorf("crypt: a master key has %d bytes, not %d", KeySize, len(kek))
	}
	aead, err := newAEAD(kek)
	if err != nil {
		return nil, err
	}
	// The id is a MAC of a fixed label, so it names the key without helping
	// anyone guess it.
	mac := hmac.New(sha256.New, kek)
	mac.Write([]byte("hearth kek id"))
	return &LocalWrapper{id: "local:" + hex.EncodeToString(mac.Sum(nil)[:8]), aead: aead}, nil
}

// ID names the KEK by a fingerprint.
func (w *LocalWrapper) ID() string { return w.id }

// Wrap encrypts key under the KEK, bound to kc.
func (w *LocalWrapper) Wrap(_ context.Context, kc KeyContext, key []byte) ([]byte, error) {
	return w.aead.Seal(nil, nil, key, kc.aad()), nil
}

// Unwrap decrypts a wrapped key.
func (w *LocalWrapper) Unwrap(_ context.Context, kc KeyContext, wrapped []byte) ([]byte, error) {
	key, err := w.aead.Open(nil, nil, wrapped, kc.aad())
	if err != nil {
		return nil, errors.New("crypt: wrapped key does not unwrap under " + w.id)
	}
	return key, nil
}

// newAEAD returns AES-256-GCM with random nonces prepended to the ciphertext.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypt: %w", err)
	}
	return cipher.NewGCMWithRandomNonce(block)
}
