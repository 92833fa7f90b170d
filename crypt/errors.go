package crypt

import (
	"errors"
	"fmt"
)

// Errors callers classify with errors.Is. Messages never carry key material
// or plaintext.
var (
	// ErrDecrypt means a ciphertext failed authentication: it was altered,
	// truncated, moved to another place (associated data) or encrypted under
	// another key. It is never returned as garbled or empty data.
	ErrDecrypt = errors.New("crypt: ciphertext failed authentication")
	// ErrNoKey means the key a ciphertext names does not exist (never made,
	// or destroyed by crypto-shredding).
	ErrNoKey = errors.New("crypt: no such key")
	// ErrMalformed means the bytes are not a Hearth ciphertext at all.
	ErrMalformed = errors.New("crypt: malformed ciphertext")
)

// errNoTenant refuses the empty tenant, which would share keys by accident.
var errNoTenant = fmt.Errorf("%w: empty tenant", ErrNoKey)

// isDecryptFailure reports whether err says stored data is damaged or its
// key is gone, as opposed to a store or key service that failed.
func isDecryptFailure(err error) bool {
	return errors.Is(err, ErrDecrypt) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrNoKey)
}
