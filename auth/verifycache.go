package auth

import (
	"sync"
	"time"
)

// maxCachedTokens bounds the verified-token cache; past it, expired entries
// are dropped and, if that is not enough, the cache starts over.
const maxCachedTokens = 10000

// tokenCache remembers tokens whose signature and claims were verified, so
// that a client reusing its token (every request, typically) costs a map
// lookup instead of an ECDSA verification, which was a third of the CPU of
// a read. The key is the exact token string: the same bytes verify the same
// way. Expiry is re-checked on every hit. Revocation, when it lands, must
// consult its list after a hit too.
type tokenCache struct {
	mu     sync.Mutex
	claims map[string]Claims
}

func newTokenCache() *tokenCache {
	return &tokenCache{claims: make(map[string]Claims)}
}

// get returns the cached claims of a token that has not expired at now.
func (c *tokenCache) get(token string, now time.Time) (Claims, bool) {
	c.mu.Lock()
	cl, ok := c.claims[token]
	c.mu.Unlock()
	if !ok || !now.Before(cl.ExpiresAt.Add(leeway)) {
		return Claims{}, false
	}
	return cl, true
}

// put remembers verified claims.
func (c *tokenCache) put(token string, cl Claims, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.claims) >= maxCachedTokens {
		for k, v := range c.claims {
			if !now.Before(v.ExpiresAt.Add(leeway)) {
				delete(c.claims, k)
			}
		}
		if len(c.claims) >= maxCachedTokens {
			clear(c.claims)
		}
	}
	c.claims[token] = cl
}
