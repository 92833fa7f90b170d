package store

import (
	"context"
	"time"
)

// Client authentication methods (store.Client.AuthMethod), as OAuth names them.
const (
	AuthSecretBasic   = "client_secret_basic" // confidential client with a secret
	AuthNone          = "none"                // public client; PKCE instead of a secret
	AuthPrivateKeyJWT = "private_key_jwt"     // signed client assertion (SMART Backend Services)
)

// User is a person who logs in to Hearth. The password is only ever stored
// as an argon2id hash.
type User struct {
	Tenant        string
	ID            string
	Username      string
	PasswordHash  string   // argon2id PHC string; empty for users who only sign in through an IdP
	FhirUser      string   // Practitioner/…, Patient/… or RelatedPerson/… the user is
	Roles         []string // e.g. practitioner, admin (see docs/access-policy.md)
	Organization  string   // e.g. Organization/9, for the access policy
	Verified      bool     // an administrator vetted the user (practitioners)
	TOTPSecret    string   // base32 seed; set during enrolment
	TOTPEnabled   bool     // enrolment confirmed: a code is asked at every login
	FailedLogins  int      // consecutive failed logins
	LockedUntil   time.Time
	RevokedBefore time.Time // sessions and tokens issued before this are void
	Disabled      bool
	CreatedAt     time.Time
}

// Session is a browser login session. ID is a hash of the cookie value, so
// a copy of the table cannot be replayed as cookies.
type Session struct {
	Tenant    string
	ID        string
	UserID    string
	MFADone   bool // the second factor was checked in this session
	CreatedAt time.Time
	LastSeen  time.Time
}

// RefreshToken is one refresh token, by hash. Data is the grant it renews
// (scopes, launch context), opaque to the store.
type RefreshToken struct {
	Tenant    string
	Hash      string
	ChainID   string // every rotation of one grant shares it
	UserID    string
	ClientID  string
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // zero until the token is exchanged
	Revoked   bool
}

// AuthItem is short-lived authorization state: a pending authorization
// request, a code, an EHR launch context, a client assertion's jti, a
// revoked access token's id. Kind separates the name spaces.
type AuthItem struct {
	Tenant    string
	Kind      string
	ID        string
	Data      []byte
	ExpiresAt time.Time
}

// Users is the optional store capability behind logins: users, sessions,
// refresh tokens and short-lived authorization state. Both backends
// implement it.
type Users interface {
	// CreateUser adds a user; a username taken in the tenant is KindConflict.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, tenant, id string) (User, error)
	UserByName(ctx context.Context, tenant, username string) (User, error)
	// UpdateUser writes every field of u except the failure counters,
	// which only LoginFailed and LoginSucceeded change.
	UpdateUser(ctx context.Context, u User) error
	// LoginFailed counts a failed login in one statement, so concurrent
	// guesses cannot lose counts, and locks the user until lockUntil once
	// maxFailures is reached. It returns the user as updated.
	LoginFailed(ctx context.Context, tenant, id string, maxFailures int, lockUntil time.Time) (User, error)
	// LoginSucceeded resets the failure count and lock.
	LoginSucceeded(ctx context.Context, tenant, id string) error

	CreateSession(ctx context.Context, s Session) error
	// GetSession finds a session by id in any tenant (the cookie carries no tenant).
	GetSession(ctx context.Context, id string) (Session, error)
	// UpdateSession writes LastSeen and MFADone.
	UpdateSession(ctx context.Context, s Session) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, tenant, userID string) error

	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// UseRefreshToken marks a token used at now and returns it. fresh is
	// false when it was used or revoked before: a replay, for which the
	// caller revokes the chain. Unknown tokens are KindNotFound.
	UseRefreshToken(ctx context.Context, hash string, now time.Time) (t RefreshToken, fresh bool, err error)
	GetRefreshToken(ctx context.Context, hash string) (RefreshToken, error)
	RevokeRefreshChain(ctx context.Context, tenant, chainID string) error
	RevokeUserRefreshTokens(ctx context.Context, tenant, userID string) error

	// PutAuthItem stores an item; an unexpired item of the same kind and id
	// is KindConflict (which is how jti replay is refused).
	PutAuthItem(ctx context.Context, it AuthItem, now time.Time) error
	// GetAuthItem returns an unexpired item; KindNotFound otherwise.
	GetAuthItem(ctx context.Context, kind, id string, now time.Time) (AuthItem, error)
	DeleteAuthItem(ctx context.Context, kind, id string) error
	// AuthItems lists the unexpired items of a kind.
	AuthItems(ctx context.Context, kind string, now time.Time) ([]AuthItem, error)
}
