// Package store is Hearth's storage contract. Two backends implement it:
// store/postgres (pgx, production) and store/sqlite (modernc.org/sqlite, the
// embedded default). store/storetest is the one suite both must pass.
//
// Every method is scoped to a tenant; no call reads or writes across tenants.
// Storage errors are *fhir.Error values with a Kind (not-found, conflict …),
// never wire-format errors.
package store

import (
	"context"
	"time"

	"github.com/hearth-fhir/hearth/fhir/search"
)

// Record is one version of a resource.
type Record struct {
	Type        string
	ID          string
	Version     int64
	LastUpdated time.Time // UTC, microsecond precision
	Deleted     bool      // a delete marker; Body is nil
	Body        []byte    // the resource JSON exactly as it is served
}

// Token is one token index row: param is the search parameter name
// (e.g. "identifier"), system may be empty.
type Token struct {
	Param  string
	System string
	Code   string
}

// Write is one new version of a resource.
type Write struct {
	Record Record
	// PrevVersion is the version the writer based this on: 0 means the
	// resource must not exist yet. A mismatch fails with KindConflict, which
	// makes every write optimistic and race-free.
	PrevVersion int64
	// Tokens replaces the resource's token index rows (ignored for deletes,
	// whose rows are removed). Index.Tokens is the same table; both are
	// written.
	Tokens []Token
	// Index replaces the resource's search index rows (ignored for
	// deletes, whose rows are removed).
	Index search.Index
}

// TokenQuery matches resources by a token index row.
type TokenQuery struct {
	Type      string
	Param     string
	System    string
	AnySystem bool // true for `code` without a `system|` prefix
	Code      string
	Limit     int
}

// HistoryQuery selects versions, newest first. Type and ID narrow it to a
// type or an instance; Since keeps versions at or after it; Before is a
// paging cursor (only versions with a lower sequence number).
type HistoryQuery struct {
	Type   string
	ID     string
	Since  time.Time
	Before int64
	Count  int
}

// HistoryPage is a page of history with the cursor for the next page (0 when
// there is none).
type HistoryPage struct {
	Records []Record
	Next    int64
}

// Resources is the resource part of the contract.
type Resources interface {
	// Read returns the current version, which may be a delete marker.
	// A resource that never existed is KindNotFound.
	Read(ctx context.Context, tenant, typ, id string) (Record, error)
	// ReadVersion returns one version; KindNotFound when there is no such version.
	ReadVersion(ctx context.Context, tenant, typ, id string, version int64) (Record, error)
	// History pages through versions newest first.
	History(ctx context.Context, tenant string, q HistoryQuery) (HistoryPage, error)
	// Tx runs fn in one database transaction for tenant. fn's error, or a
	// failed commit, rolls back everything fn wrote.
	Tx(ctx context.Context, tenant string, fn func(Tx) error) error
	Searcher
}

// Tx is a transaction scoped to one tenant. It is not safe for concurrent use.
type Tx interface {
	Read(ctx context.Context, typ, id string) (Record, error)
	ReadVersion(ctx context.Context, typ, id string, version int64) (Record, error)
	// Put writes a new current version and its history row.
	Put(ctx context.Context, w Write) error
	// FindTokens returns the ids of current, non-deleted resources matching q.
	FindTokens(ctx context.Context, q TokenQuery) ([]string, error)
	TxSearcher
}

// Tenant is an isolated space of resources, clients and keys.
type Tenant struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Client is a registered OAuth client. Only a hash of its secret is stored.
type Client struct {
	Tenant     string
	ID         string
	Name       string
	SecretHash []byte
	Scopes     string // space-separated scopes the client may be granted
	CreatedAt  time.Time
	Disabled   bool
	// AuthMethod is how the client authenticates (AuthSecretBasic when
	// empty, AuthNone, AuthPrivateKeyJWT).
	AuthMethod   string
	RedirectURIs []string // for the authorization code grant
	JWKS         string   // the client's public keys (JWK Set JSON), for private_key_jwt
	JWKSURL      string   // or where to fetch them
}

// SigningKey is a server key that signs access tokens.
type SigningKey struct {
	ID         string // JWK kid
	Algorithm  string // JWS alg, e.g. ES256
	PrivateDER []byte // PKCS#8
	CreatedAt  time.Time
}

// Accounts holds tenants, clients and signing keys.
type Accounts interface {
	// EnsureTenant creates the tenant if it does not exist.
	EnsureTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	// CreateClient registers a client; a duplicate id is KindConflict.
	CreateClient(ctx context.Context, c Client) error
	// LookupClient finds a client by id across tenants (the token endpoint
	// learns the tenant from the client); KindNotFound when unknown.
	LookupClient(ctx context.Context, clientID string) (Client, error)
	// SigningKeys lists the server's signing keys, newest first.
	SigningKeys(ctx context.Context) ([]SigningKey, error)
	// AddSigningKey stores a new signing key; a duplicate id is KindConflict.
	AddSigningKey(ctx context.Context, k SigningKey) error
}

// Store is everything a backend provides.
type Store interface {
	Resources
	Accounts
	// Migrate applies the embedded migrations that have not run yet.
	Migrate(ctx context.Context) error
	Close() error
}

// TenantDeleter is the optional Store capability of removing a tenant: every
// row it owns, in every table that has a tenant_id, in one transaction.
// Callers destroy the tenant's encryption keys first (engine.DeleteTenant).
type TenantDeleter interface {
	// DeleteTenant removes the tenant's rows and returns how many it
	// removed; a tenant without rows is 0, not an error.
	DeleteTenant(ctx context.Context, tenant string) (int64, error)
}
