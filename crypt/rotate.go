package crypt

import (
	"context"
	"fmt"
	"time"
)

// Rotate adds a new DEK version for tenant and returns it. This ring uses it
// for every encryption from now on; other processes pick it up within their
// refresh interval. Older versions stay, so everything encrypted with them
// still decrypts until it has been re-encrypted.
func (r *Ring) Rotate(ctx context.Context, tenant string) (int, error) {
	if tenant == "" {
		return 0, errNoTenant
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	r.mu.RLock()
	prev := r.tenants[tenant]
	r.mu.RUnlock()
	var lastErr error
	// A concurrent rotation elsewhere takes the same version number; the
	// loser reloads and takes the next one.
	for range 3 {
		tk, err := r.load(ctx, tenant, prev)
		if err != nil {
			return 0, err
		}
		if !tk.complete() {
			if tk, err = r.create(ctx, tenant, tk); err != nil {
				return 0, err
			}
		}
		next := tk.current + 1
		if lastErr = r.addKey(ctx, KeyContext{Tenant: tenant, Purpose: PurposeData, Version: next}); lastErr == nil {
			if _, err := r.load(ctx, tenant, tk); err != nil {
				return 0, err
			}
			return next, nil
		}
		prev = tk
	}
	return 0, fmt.Errorf("crypt: rotate: %w", lastErr)
}

// KeyInfo describes one stored key, without its material.
type KeyInfo struct {
	Purpose   Purpose
	Version   int
	KEKID     string
	CreatedAt time.Time
	Current   bool // the DEK version new encryptions use
}

// Keys lists a tenant's keys as stored.
func (r *Ring) Keys(ctx context.Context, tenant string) ([]KeyInfo, error) {
	stored, err := r.ks.TenantKeys(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("crypt: list keys: %w", err)
	}
	newest := 0
	for _, k := range stored {
		if k.Purpose == PurposeData {
			newest = max(newest, k.Version)
		}
	}
	infos := make([]KeyInfo, len(stored))
	for i, k := range stored {
		infos[i] = KeyInfo{Purpose: k.Purpose, Version: k.Version, KEKID: k.KEKID, CreatedAt: k.CreatedAt,
			Current: k.Purpose == PurposeData && k.Version == newest}
	}
	return infos, nil
}

// Shred destroys a tenant's keys: crypto-shredding. When the Wrapper keeps
// a key per tenant (TenantDestroyer: TenantDir, or a KMS key per tenant),
// that goes first, which makes every copy of the tenant's data unreadable,
// backups included, even if what follows fails; then the stored keys are
// deleted. Every ciphertext of the tenant becomes undecryptable, here at
// once and in other processes once their refresh interval has passed.
func (r *Ring) Shred(ctx context.Context, tenant string) error {
	if tenant == "" {
		return errNoTenant
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	r.mu.Lock()
	delete(r.tenants, tenant)
	r.mu.Unlock()
	if d, ok := r.wrap.(TenantDestroyer); ok {
		if err := d.DestroyTenant(ctx, tenant); err != nil {
			return fmt.Errorf("crypt: shred: destroy tenant key: %w", err)
		}
	}
	if err := r.ks.DeleteTenantKeys(ctx, tenant); err != nil {
		return fmt.Errorf("crypt: shred: %w", err)
	}
	return nil
}

// RewrapReport counts what RewrapKeys did.
type RewrapReport struct {
	Tenants   int
	Rewrapped int
	Current   int // keys already wrapped by the new KEK
}

// RewrapKeys moves every stored key to the KEK of to, unwrapping with
// whichever of from (or to) wrapped it. Only keys change, never data. It can
// be interrupted and run again: keys already under to are left alone. Run it
// while servers hold both KEKs (WithPreviousKEKs), then retire the old one.
func RewrapKeys(ctx context.Context, ks KeyStore, to Wrapper, from ...Wrapper) (RewrapReport, error) {
	var rep RewrapReport
	byID := map[string]Wrapper{to.ID(): to}
	for _, w := range from {
		byID[w.ID()] = w
	}
	tenants, err := ks.KeyTenants(ctx)
	if err != nil {
		return rep, fmt.Errorf("crypt: rewrap: %w", err)
	}
	for _, tenant := range tenants {
		rep.Tenants++
		stored, err := ks.TenantKeys(ctx, tenant)
		if err != nil {
			return rep, fmt.Errorf("crypt: rewrap: %w", err)
		}
		for _, k := range stored {
			if k.KEKID == to.ID() {
				rep.Current++
				continue
			}
			old := byID[k.KEKID]
			if old == nil {
				return rep, fmt.Errorf("crypt: rewrap: a key of tenant %q is wrapped by %s, which was not given", tenant, k.KEKID)
			}
			kc := KeyContext{Tenant: tenant, Purpose: k.Purpose, Version: k.Version}
			raw, err := old.Unwrap(ctx, kc, k.Wrapped)
			if err != nil {
				return rep, fmt.Errorf("crypt: rewrap: %w", err)
			}
			if k.Wrapped, err = to.Wrap(ctx, kc, raw); err != nil {
				return rep, fmt.Errorf("crypt: rewrap: %w", err)
			}
			k.KEKID = to.ID()
			if err := ks.RewrapTenantKey(ctx, k); err != nil {
				return rep, fmt.Errorf("crypt: rewrap: %w", err)
			}
			rep.Rewrapped++
		}
	}
	if sc, ok := ks.(KeyScrubber); ok && rep.Rewrapped > 0 {
		if err := sc.ScrubKeys(ctx); err != nil {
			return rep, fmt.Errorf("crypt: rewrap: the old wrappings may linger in the database files: %w", err)
		}
	}
	return rep, nil
}
