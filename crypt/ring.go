package crypt

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultRefresh is how long a Ring trusts its cached view of a tenant's
// keys before it looks for versions another process added (hearth keys
// rotate run from the command line, another server).
const DefaultRefresh = 5 * time.Second

// Ring holds tenants' keys, unwrapped on first use and cached, and performs
// encryption and blind indexing with them. It is safe for concurrent use.
type Ring struct {
	ks        KeyStore
	wrap      Wrapper
	unwrap    map[string]Wrapper // by Wrapper.ID: the current KEK and previous ones
	now       func() time.Time
	refresh   time.Duration
	maxPrefix int

	mu      sync.RWMutex
	tenants map[string]*tenantKeys
	loadMu  sync.Mutex // one load at a time: loads are rare and may call a KMS
}

// tenantKeys is one tenant's unwrapped keys. It is never modified once
// built; a reload replaces it.
type tenantKeys struct {
	current  int // newest DEK version; 0 when the tenant has none
	deks     map[int]cipher.AEAD
	wrapped  map[int][]byte // DEK bytes as stored, to reuse unwrapped keys on reload
	eqKey    []byte         // blind-index subkeys; nil when the tenant has no index key
	prefKey  []byte
	indexRaw []byte
	loaded   time.Time
}

// RingOption sets an optional Ring setting.
type RingOption func(*Ring)

// WithPreviousKEKs lets the ring unwrap keys still wrapped by older KEKs,
// while RewrapKeys moves them to the current one.
func WithPreviousKEKs(ws ...Wrapper) RingOption {
	return func(r *Ring) {
		for _, w := range ws {
			if _, ok := r.unwrap[w.ID()]; !ok {
				r.unwrap[w.ID()] = w
			}
		}
	}
}

// WithRingClock injects the clock.
func WithRingClock(now func() time.Time) RingOption { return func(r *Ring) { r.now = now } }

// WithRefresh sets how long cached keys are trusted (DefaultRefresh).
func WithRefresh(d time.Duration) RingOption { return func(r *Ring) { r.refresh = d } }

// WithMaxPrefix sets the longest prefix, in characters, that PrefixTokens
// indexes (DefaultMaxPrefix).
func WithMaxPrefix(n int) RingOption { return func(r *Ring) { r.maxPrefix = n } }

// NewRing returns a ring over ks whose new keys w wraps.
func NewRing(ks KeyStore, w Wrapper, opts ...RingOption) *Ring {
	r := &Ring{
		ks: ks, wrap: w, unwrap: map[string]Wrapper{w.ID(): w},
		now: time.Now, refresh: DefaultRefresh, maxPrefix: DefaultMaxPrefix,
		tenants: map[string]*tenantKeys{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// EnsureKeys creates the tenant's keys (DEK version 1 and the index key)
// unless they exist. Call it when a tenant is created, or before a write
// that may be its first: Encrypt and the token functions never create keys,
// because they may run inside a database transaction, where writing a key
// through another connection could wait for that very transaction. With
// keys in memory it costs a map lookup.
func (r *Ring) EnsureKeys(ctx context.Context, tenant string) error {
	_, err := r.keys(ctx, tenant, true)
	return err
}

// ready returns keys that can encrypt: ErrNoKey when the tenant has none.
func (r *Ring) ready(ctx context.Context, tenant string) (*tenantKeys, error) {
	tk, err := r.keys(ctx, tenant, false)
	if err != nil {
		return nil, err
	}
	if !tk.complete() {
		return nil, fmt.Errorf("%w: the tenant has no keys yet (EnsureKeys)", ErrNoKey)
	}
	return tk, nil
}

// Encrypt seals plaintext for tenant under its current DEK, binding it to
// aad (see AAD). The tenant must have keys (EnsureKeys).
func (r *Ring) Encrypt(ctx context.Context, tenant string, aad, plaintext []byte) ([]byte, error) {
	tk, err := r.ready(ctx, tenant)
	if err != nil {
		return nil, err
	}
	head := header(tk.current)
	out := make([]byte, len(head), len(head)+len(plaintext)+overhead)
	copy(out, head)
	return tk.deks[tk.current].Seal(out, nil, plaintext, valueAAD(head, tenant, aad)), nil
}

// Decrypt opens a ciphertext made by Encrypt for the same tenant and aad.
// Anything else — altered, truncated, moved, or under a destroyed key — is
// an error (ErrMalformed, ErrNoKey or ErrDecrypt), never partial data.
func (r *Ring) Decrypt(ctx context.Context, tenant string, aad, ciphertext []byte) ([]byte, error) {
	return r.DecryptAppend(ctx, tenant, nil, aad, ciphertext)
}

// DecryptAppend is Decrypt appending the plaintext to dst, as
// cipher.AEAD.Open does, so that a caller opening many values can reuse
// one buffer. dst must not overlap ciphertext.
func (r *Ring) DecryptAppend(ctx context.Context, tenant string, dst, aad, ciphertext []byte) ([]byte, error) {
	version, head, sealed, err := splitHeader(ciphertext)
	if err != nil {
		return nil, err
	}
	tk, err := r.keys(ctx, tenant, false)
	if err != nil {
		return nil, err
	}
	aead := tk.deks[version]
	if aead == nil {
		// A version made since the cache was filled (another process
		// rotated), or one that does not exist.
		if tk, err = r.reload(ctx, tenant, tk); err != nil {
			return nil, err
		}
		if aead = tk.deks[version]; aead == nil {
			return nil, versionError(ErrNoKey, version)
		}
	}
	out, err := aead.Open(dst, nil, sealed, valueAAD(head, tenant, aad))
	if err != nil {
		return nil, versionError(ErrDecrypt, version)
	}
	return out, nil
}

// CurrentVersion returns the DEK version new encryptions use, 0 when the
// tenant has no keys yet.
func (r *Ring) CurrentVersion(ctx context.Context, tenant string) (int, error) {
	tk, err := r.keys(ctx, tenant, false)
	if err != nil {
		return 0, err
	}
	return tk.current, nil
}

// keys returns the tenant's cached keys, loading them when absent or stale;
// create makes missing keys.
func (r *Ring) keys(ctx context.Context, tenant string, create bool) (*tenantKeys, error) {
	if tenant == "" {
		return nil, errNoTenant
	}
	r.mu.RLock()
	tk := r.tenants[tenant]
	r.mu.RUnlock()
	if tk != nil && r.now().Sub(tk.loaded) < r.refresh && (!create || tk.complete()) {
		return tk, nil
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	// Another goroutine may have loaded it while this one waited.
	r.mu.RLock()
	cur := r.tenants[tenant]
	r.mu.RUnlock()
	if cur != nil && cur != tk && r.now().Sub(cur.loaded) < r.refresh && (!create || cur.complete()) {
		return cur, nil
	}
	fresh, err := r.load(ctx, tenant, cur)
	if err == nil && create && !fresh.complete() {
		fresh, err = r.create(ctx, tenant, fresh)
	}
	if err != nil {
		if cur != nil && (!create || cur.complete()) {
			// The store is unreachable: the keys already in memory still
			// serve; the next call tries again.
			return cur, nil
		}
		return nil, err
	}
	return fresh, nil
}

// reload reads the tenant's keys again, now, unless another goroutine did
// since stale was read.
func (r *Ring) reload(ctx context.Context, tenant string, stale *tenantKeys) (*tenantKeys, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	r.mu.RLock()
	cur := r.tenants[tenant]
	r.mu.RUnlock()
	if cur != nil && cur != stale {
		return cur, nil
	}
	return r.load(ctx, tenant, cur)
}

// load reads and unwraps the tenant's keys and caches them. Keys already
// unwrapped in prev are reused when their stored bytes have not changed.
// Called with loadMu held.
func (r *Ring) load(ctx context.Context, tenant string, prev *tenantKeys) (*tenantKeys, error) {
	stored, err := r.ks.TenantKeys(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("crypt: load keys: %w", err)
	}
	tk := &tenantKeys{deks: map[int]cipher.AEAD{}, wrapped: map[int][]byte{}, loaded: r.now()}
	for _, k := range stored {
		kc := KeyContext{Tenant: tenant, Purpose: k.Purpose, Version: k.Version}
		switch k.Purpose {
		case PurposeData:
			if prev != nil && prev.deks[k.Version] != nil && bytes.Equal(prev.wrapped[k.Version], k.Wrapped) {
				tk.deks[k.Version] = prev.deks[k.Version]
			} else {
				raw, err := r.unwrapKey(ctx, kc, k)
				if err != nil {
					return nil, err
				}
				if tk.deks[k.Version], err = newAEAD(raw); err != nil {
					return nil, err
				}
			}
			tk.wrapped[k.Version] = k.Wrapped
			tk.current = max(tk.current, k.Version)
		case PurposeIndex:
			// One index key per tenant today; the newest wins should
			// versions ever be added.
			if prev != nil && prev.indexRaw != nil && bytes.Equal(prev.indexRaw, k.Wrapped) {
				tk.eqKey, tk.prefKey, tk.indexRaw = prev.eqKey, prev.prefKey, prev.indexRaw
				continue
			}
			raw, err := r.unwrapKey(ctx, kc, k)
			if err != nil {
				return nil, err
			}
			if tk.eqKey, tk.prefKey, err = indexSubkeys(raw); err != nil {
				return nil, err
			}
			tk.indexRaw = k.Wrapped
		}
	}
	r.mu.Lock()
	if len(stored) == 0 {
		delete(r.tenants, tenant) // never cache "no keys": that is cheap to ask again
	} else {
		r.tenants[tenant] = tk
	}
	r.mu.Unlock()
	return tk, nil
}

func (r *Ring) unwrapKey(ctx context.Context, kc KeyContext, k WrappedKey) ([]byte, error) {
	w := r.unwrap[k.KEKID]
	if w == nil {
		return nil, fmt.Errorf("crypt: %s key %d of a tenant is wrapped by %s, which this server does not have", k.Purpose, k.Version, k.KEKID)
	}
	raw, err := w.Unwrap(ctx, kc, k.Wrapped)
	if err != nil {
		return nil, fmt.Errorf("crypt: unwrap %s key %d: %w", k.Purpose, k.Version, err)
	}
	if len(raw) != KeySize {
		return nil, fmt.Errorf("crypt: %s key %d has %d bytes", k.Purpose, k.Version, len(raw))
	}
	return raw, nil
}

// complete reports whether the tenant has both a DEK and an index key.
func (tk *tenantKeys) complete() bool {
	return tk.current > 0 && tk.eqKey != nil
}

// create makes the keys a tenant lacks (DEK version 1, the index key), then
// reloads. Losing a race to another server is fine: its key is reloaded.
// Called with loadMu held.
func (r *Ring) create(ctx context.Context, tenant string, tk *tenantKeys) (*tenantKeys, error) {
	var errs []error
	if tk.current == 0 {
		errs = append(errs, r.addKey(ctx, KeyContext{Tenant: tenant, Purpose: PurposeData, Version: 1}))
	}
	if tk.eqKey == nil {
		errs = append(errs, r.addKey(ctx, KeyContext{Tenant: tenant, Purpose: PurposeIndex, Version: 1}))
	}
	tk, err := r.load(ctx, tenant, tk)
	if err != nil {
		return nil, err
	}
	if !tk.complete() {
		return nil, fmt.Errorf("crypt: create keys: %w", errors.Join(errs...))
	}
	return tk, nil
}

// addKey generates, wraps and stores one key.
func (r *Ring) addKey(ctx context.Context, kc KeyContext) error {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	wrapped, err := r.wrap.Wrap(ctx, kc, raw)
	if err != nil {
		return fmt.Errorf("crypt: wrap %s key %d: %w", kc.Purpose, kc.Version, err)
	}
	return r.ks.AddTenantKey(ctx, WrappedKey{
		Tenant: kc.Tenant, Purpose: kc.Purpose, Version: kc.Version,
		KEKID: r.wrap.ID(), Wrapped: wrapped, CreatedAt: r.now().UTC(),
	})
}

// indexSubkeys derives the keys of exact and prefix tokens from the index
// key, so that the two kinds of token never coincide.
func indexSubkeys(raw []byte) (eq, prefix []byte, err error) {
	if eq, err = hkdf.Key(sha256.New, raw, nil, "hearth blind index: exact", KeySize); err != nil {
		return nil, nil, err
	}
	if prefix, err = hkdf.Key(sha256.New, raw, nil, "hearth blind index: prefix", KeySize); err != nil {
		return nil, nil, err
	}
	return eq, prefix, nil
}
