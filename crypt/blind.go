package crypt

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"unicode/utf8"
)

// DefaultMaxPrefix is the longest prefix, in characters, PrefixTokens
// indexes: long enough for names and cities, short enough to bound the rows
// one value adds.
const DefaultMaxPrefix = 32

// tokenBytes is how much of the HMAC a token keeps: 128 bits make accidental
// collisions impossible in practice and keep index rows short.
const tokenBytes = 16

// ErrPrefixTooLong means a prefix query is longer than the indexed prefixes.
var ErrPrefixTooLong = errors.New("crypt: prefix longer than the indexed prefixes")

// BlindIndex returns the exact-match token of value for param (a name the
// caller chooses, such as "Patient.identifier", so equal values of different
// parameters do not share tokens). Tokens are deterministic per tenant:
// equal inputs give equal tokens, which is what makes equality search work
// and what the index leaks. The caller normalises value first.
func (r *Ring) BlindIndex(ctx context.Context, tenant, param, value string) (string, error) {
	tk, err := r.ready(ctx, tenant)
	if err != nil {
		return "", err
	}
	return token(hmac.New(sha256.New, tk.eqKey), param, value), nil
}

// PrefixTokens returns the tokens of every prefix of value, from one
// character up to MaxPrefix, for "starts with" search on an encrypted
// string. value is normalised by the caller (case, accents); the tokens
// reveal its length when it is shorter than MaxPrefix, and which values share
// prefixes (see the package documentation).
func (r *Ring) PrefixTokens(ctx context.Context, tenant, param, value string) ([]string, error) {
	tk, err := r.ready(ctx, tenant)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, tk.prefKey)
	n := min(utf8.RuneCountInString(value), r.maxPrefix)
	out := make([]string, 0, n)
	for i := range value { // i is where each character starts: value[:i] is a prefix
		if len(out) == n {
			break
		}
		if i > 0 {
			out = append(out, token(mac, param, value[:i]))
		}
	}
	if len(out) < n {
		out = append(out, token(mac, param, value))
	}
	return out, nil
}

// PrefixToken returns the token a "starts with" query for prefix looks up.
// An empty prefix, or one longer than MaxPrefix, has none.
func (r *Ring) PrefixToken(ctx context.Context, tenant, param, prefix string) (string, error) {
	if prefix == "" {
		return "", errors.New("crypt: empty prefix")
	}
	if utf8.RuneCountInString(prefix) > r.maxPrefix {
		return "", ErrPrefixTooLong
	}
	tk, err := r.ready(ctx, tenant)
	if err != nil {
		return "", err
	}
	return token(hmac.New(sha256.New, tk.prefKey), param, prefix), nil
}

// MaxPrefix is the longest prefix the ring indexes, in characters.
func (r *Ring) MaxPrefix() int { return r.maxPrefix }

func token(mac hash.Hash, param, value string) string {
	mac.Reset()
	mac.Write(fields(param, value))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:tokenBytes])
}
