package crypt

import (
	"context"
	"time"
)

// WrappedKey is a tenant key as it is stored: wrapped by a KEK, never in the
// clear.
type WrappedKey struct {
	Tenant    string
	Purpose   Purpose
	Version   int
	KEKID     string // Wrapper.ID of the KEK that wrapped it
	Wrapped   []byte
	CreatedAt time.Time
}

// KeyStore keeps wrapped tenant keys. store/sqlite and store/postgres
// implement it in their tenant_keys table; store/storetest checks both.
type KeyStore interface {
	// TenantKeys lists a tenant's keys ordered by purpose and version; none
	// is an empty list, not an error.
	TenantKeys(ctx context.Context, tenant string) ([]WrappedKey, error)
	// AddTenantKey stores a new key. A key with the same tenant, purpose and
	// version must already exist is an error (two servers creating a key at
	// once: one wins, the other reloads).
	AddTenantKey(ctx context.Context, k WrappedKey) error
	// RewrapTenantKey replaces KEKID and Wrapped of an existing key (KEK
	// rotation); the key must exist.
	RewrapTenantKey(ctx context.Context, k WrappedKey) error
	// DeleteTenantKeys destroys every key of a tenant, as thoroughly as the
	// backend can (no copy left in free pages or logs it controls). Deleting
	// keys that do not exist succeeds.
	DeleteTenantKeys(ctx context.Context, tenant string) error
	// KeyTenants lists the tenants that have keys.
	KeyTenants(ctx context.Context) ([]string, error)
}

// KeyScrubber is an optional KeyStore capability: removing what lingers of
// deleted or re-wrapped keys in the database's files (dead tuples, the
// write-ahead log), so that a copy of the files taken afterwards does not
// hold keys wrapped by a master key that no longer protects them.
// RewrapKeys calls it after it has changed anything.
type KeyScrubber interface {
	ScrubKeys(ctx context.Context) error
}
